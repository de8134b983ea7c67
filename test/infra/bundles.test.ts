import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The functions bundled as serverless-esbuild bundles them (the options of infra/esbuild.json): every
 * package is inside the bundle, nothing is left for a runtime that does not have it, and each bundle
 * loads as an ES module on Node 24 and names the configuration it misses.
 */

const ROOT = new URL('../..', import.meta.url).pathname;
const FUNCTIONS = ['start-audit', 'ssm-command-status', 'sweep', 'http-api'];
let out: string;
let metafile: Metafile;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'fleet-audit-bundles-'));
  const options = JSON.parse(await readFile(join(ROOT, 'infra', 'esbuild.json'), 'utf8')) as Record<string, unknown> & {
    outputFileExtension: string;
    exclude?: unknown;
    external: string[];
  };
  const { outputFileExtension, exclude: _exclude, ...esbuildOptions } = options;
  const result = await build({
    ...esbuildOptions,
    entryPoints: FUNCTIONS.map((name) => join(ROOT, 'functions', `${name}.ts`)),
    outdir: out,
    outExtension: { '.js': outputFileExtension },
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  metafile = result.metafile;
}, 120_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
// ws requires these optional native add-ons inside try/catch and works without them.
const OPTIONAL = new Set(['bufferutil', 'utf-8-validate']);
const outputOf = (name: string) => Object.entries(metafile.outputs).find(([file]) => file.endsWith(`${name}.mjs`))!;

describe('the function bundles', () => {
  it('import nothing but Node built-ins: the AWS SDK and every other package are inside', () => {
    for (const name of FUNCTIONS) {
      const [, output] = outputOf(name);
      const external = output.imports.filter((i) => i.external).map((i) => i.path);
      expect(
        external.filter((path) => !builtins.has(path) && !OPTIONAL.has(path)),
        name,
      ).toEqual([]);
      const inputs = Object.keys(output.inputs);
      expect(
        inputs.some((i) => i.includes('node_modules/@aws-sdk/')),
        name,
      ).toBe(true);
    }
  });

  it('leave the Kubernetes client out of the functions that do not read the mesh', () => {
    const kube = (name: string) => Object.keys(outputOf(name)[1].inputs).some((i) => i.includes('node_modules/@kubernetes/client-node/'));
    expect(kube('start-audit')).toBe(false);
    expect(kube('http-api')).toBe(false);
    expect(kube('ssm-command-status')).toBe(true);
    expect(kube('sweep')).toBe(true);
  });

  it('load the Kubernetes client only when a finalization reads the mesh, not when the function starts', () => {
    const importers = Object.entries(metafile.inputs).flatMap(([file, input]) =>
      input.imports
        .filter((i) => /lib\/adapters\/kube-(mesh-reader|config)\.ts$/.test(i.path))
        .map((i) => ({ file, path: i.path, kind: i.kind })),
    );
    // Only the composition root's mesh reader imports them, and only with import(): esbuild then defers their evaluation.
    expect(importers.filter((i) => i.file.startsWith('functions/') || i.file.startsWith('lib/compose/'))).toEqual([
      { file: 'lib/compose/mesh-reader.ts', path: 'lib/adapters/kube-config.ts', kind: 'dynamic-import' },
      { file: 'lib/compose/mesh-reader.ts', path: 'lib/adapters/kube-mesh-reader.ts', kind: 'dynamic-import' },
    ]);
    expect(importers.filter((i) => i.kind !== 'dynamic-import')).toEqual([]);
  });

  it('are minified: the deployment zips and the cold imports are what bench/function-bundles.ts measures', async () => {
    const options = JSON.parse(await readFile(join(ROOT, 'infra', 'esbuild.json'), 'utf8')) as { minify: boolean; keepNames: boolean };
    expect(options).toMatchObject({ minify: true, keepNames: true });
  });

  it('load as ES modules on Node 24 and name the variables missing from the environment', async () => {
    const script = `
      const results = {};
      for (const name of ${JSON.stringify(FUNCTIONS)}) {
        const module = await import(${JSON.stringify(`${out}/`)} + name + '.mjs');
        try {
          await module.handler({}, { awsRequestId: 'bundle-test' });
          results[name] = 'no error';
        } catch (error) {
          results[name] = error.name + ': ' + error.message;
        }
      }
      process.stdout.write(JSON.stringify(results));
    `;
    // A bare environment, as a function without configuration has.
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: {}, cwd: out });
    // Each failure is also counted in embedded metric format, one JSON line each before the results.
    const lines = stdout.split('\n').filter((line) => line !== '');
    const metrics = lines.filter((line) => line.startsWith('{"_aws"')).map((line) => JSON.parse(line) as { errorKind?: string });
    expect(metrics.map((m) => m.errorKind)).toEqual(['config', 'config', 'config']);
    const results = JSON.parse(lines.find((line) => !line.startsWith('{"_aws"'))!) as Record<string, string>;
    expect(process.versions.node.split('.')[0]).toBe('24');
    for (const name of FUNCTIONS) {
      expect(results[name], name).toBe(
        'ConfigError: the function is not configured: AWS_REGION is not set; AUDIT_BUCKET is not set; AUDIT_TABLE is not set',
      );
    }
  });
});
