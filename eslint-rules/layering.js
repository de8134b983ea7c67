// @ts-check
import { dirname, relative, resolve, sep } from 'node:path';

/**
 * Holds the dependency direction of docs/design.md: functions → use-cases → ports ← adapters; everything may
 * import lib/core and lib/shared; lib/core imports nothing outside itself but lib/shared, and lib/shared
 * (the identifiers, errors and helpers every layer shares) imports nothing of the project outside itself. Relative imports are resolved against the
 * importing file, so the rule does not depend on how deep a file sits.
 * @type {Record<string, string[]>} layer → layers it must not import
 */
const FORBIDDEN = {
  'lib/shared': ['lib/core', 'lib/ports', 'lib/use-cases', 'lib/adapters', 'lib/sim', 'lib/http-api', 'lib/diagnostic-script', 'cli', 'functions'],
  'lib/core': ['lib/ports', 'lib/use-cases', 'lib/adapters', 'lib/sim', 'cli', 'functions'],
  'lib/ports': ['lib/use-cases', 'lib/adapters', 'lib/sim', 'cli', 'functions'],
  'lib/use-cases': ['lib/adapters', 'lib/sim', 'cli', 'functions'],
  'lib/adapters': ['lib/use-cases', 'lib/sim', 'cli', 'functions'],
  'lib/sim': ['lib/use-cases', 'cli', 'functions'],
  'lib/http-api': ['lib/adapters', 'lib/sim', 'cli', 'functions'],
};

/** @param {string} path repo-relative, with / separators */
function layerOf(path) {
  return Object.keys(FORBIDDEN).find((layer) => path === layer || path.startsWith(`${layer}/`))
    ?? ['cli', 'functions'].find((layer) => path.startsWith(`${layer}/`));
}

/** @type {import('eslint').Rule.RuleModule} */
export const layeringRule = {
  meta: { type: 'problem', docs: { description: 'enforce the layering of lib/' }, schema: [] },
  create(context) {
    const root = context.cwd;
    const file = relative(root, context.filename).split(sep).join('/');
    const layer = layerOf(file);
    const forbidden = layer ? FORBIDDEN[layer] ?? [] : [];
    /** @param {import('estree').Node & { source?: import('estree').Node | null }} node */
    const check = (node) => {
      const source = node.source;
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = relative(root, resolve(dirname(context.filename), source.value)).split(sep).join('/');
      const targetLayer = forbidden.find((f) => target === f || target.startsWith(`${f}/`));
      if (targetLayer) context.report({ node, message: `${layer} must not import ${targetLayer} (${source.value}).` });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { rules: { layering: layeringRule } };
