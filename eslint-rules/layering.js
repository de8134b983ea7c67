// @ts-check
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Holds the dependency direction of docs/design.md: functions → use-cases → ports ← adapters; everything may
 * import lib/core and lib/shared; lib/compose, the composition root, builds the adapters and is the only way cli/ and
 * functions/ reach them, and no layer of lib/ it composes imports it; lib/core imports nothing outside itself but lib/shared, and lib/shared
 * (the identifiers, errors and helpers every layer shares) imports nothing of the project outside itself. sim/, the
 * simulated fleet, is a test and demo double, not the product: it may use lib/core, lib/ports, lib/adapters and
 * lib/shared, and nothing in lib/ may import it. Relative imports, absolute paths and file: URLs are resolved against
 * the importing file, so the rule does not depend on how deep a file sits nor on how the import is spelled.
 * @type {Record<string, string[]>} layer → layers it must not import
 */
const FORBIDDEN = {
  'lib/shared': [
    'lib/core',
    'lib/ports',
    'lib/use-cases',
    'lib/adapters',
    'lib/compose',
    'sim',
    'lib/http-api',
    'lib/diagnostic-script',
    'cli',
    'functions',
  ],
  'lib/core': ['lib/ports', 'lib/use-cases', 'lib/adapters', 'lib/compose', 'sim', 'cli', 'functions'],
  'lib/ports': ['lib/use-cases', 'lib/adapters', 'lib/compose', 'sim', 'cli', 'functions'],
  'lib/use-cases': ['lib/adapters', 'lib/compose', 'sim', 'cli', 'functions'],
  'lib/adapters': ['lib/use-cases', 'lib/compose', 'sim', 'cli', 'functions'],
  'lib/http-api': ['lib/adapters', 'lib/compose', 'sim', 'cli', 'functions'],
  'lib/compose': ['sim', 'cli', 'functions'],
  // Every other directory of lib/ (listed after the layers above, which take precedence).
  lib: ['sim'],
  sim: ['lib/use-cases', 'cli', 'functions'],
  cli: ['lib/adapters'],
  functions: ['lib/adapters'],
};

/** @param {string} path repo-relative, with / separators */
function layerOf(path) {
  return Object.keys(FORBIDDEN).find((layer) => path === layer || path.startsWith(`${layer}/`));
}

/**
 * The file path an import names, or undefined for a package: a bare specifier cannot reach into the project
 * (the package has no "exports", so it cannot import itself by name).
 * @param {string} specifier
 */
function pathOf(specifier) {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return specifier;
  if (specifier.startsWith('file:')) {
    try {
      return fileURLToPath(specifier);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
export const layeringRule = {
  meta: { type: 'problem', docs: { description: 'enforce the layering of lib/ and sim/' }, schema: [] },
  create(context) {
    const root = context.cwd;
    const file = relative(root, context.filename).split(sep).join('/');
    const layer = layerOf(file);
    const forbidden = layer ? (FORBIDDEN[layer] ?? []) : [];
    /** @param {import('estree').Node & { source?: import('estree').Node | null }} node */
    const check = (node) => {
      const source = node.source;
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const path = pathOf(source.value);
      if (path === undefined) return;
      const target = relative(root, resolve(dirname(context.filename), path))
        .split(sep)
        .join('/');
      const targetLayer = forbidden.find((f) => target === f || target.startsWith(`${f}/`));
      if (targetLayer) context.report({ node, message: `${layer} must not import ${targetLayer} (${source.value}).` });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { rules: { layering: layeringRule } };
