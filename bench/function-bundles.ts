/**
 * What each Lambda function costs before it does anything: its bundle (built with infra/esbuild.json, as
 * serverless-esbuild builds it), the size of that bundle deflated as the deployment zip holds it, and the
 * time and memory to import the bundled handler in a fresh Node process (what a cold start pays before
 * the first line of the handler runs). Each import is repeated in its own process; the median is reported.
 *
 *   node bench/function-bundles.ts              # 7 imports per function
 *   BENCH_IMPORTS=15 node bench/function-bundles.ts
 *
 * Prints a table and one JSON line with every figure. Asserts nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = new URL('..', import.meta.url).pathname;
const FUNCTIONS = ['start-audit', 'ssm-command-status', 'sweep', 'http-api'];
const IMPORTS = Number(process.env.BENCH_IMPORTS ?? 7);

interface ImportFigures {
  importMs: number;
  rssMiB: number;
  heapMiB: number;
}

/** Builds the bundles as the deployment does, into a temporary folder. */
async function buildBundles(out: string): Promise<void> {
  const options = JSON.parse(await readFile(join(ROOT, 'infra', 'esbuild.json'), 'utf8')) as Record<string, unknown> & {
    outputFileExtension: string;
    exclude?: unknown;
  };
  const { outputFileExtension, exclude: _exclude, ...esbuildOptions } = options;
  await build({
    ...esbuildOptions,
    entryPoints: FUNCTIONS.map((name) => join(ROOT, 'functions', `${name}.ts`)),
    outdir: out,
    outExtension: { '.js': outputFileExtension },
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
}

/** Imports one bundle in a fresh process with a bare environment: nothing is configured, nothing is called. */
async function importOnce(file: string): Promise<ImportFigures> {
  const script = `
    const start = performance.now();
    await import(${JSON.stringify(file)});
    const importMs = performance.now() - start;
    const { rss, heapUsed } = process.memoryUsage();
    process.stdout.write(JSON.stringify({ importMs, rssMiB: rss / 2 ** 20, heapMiB: heapUsed / 2 ** 20 }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: {} });
  return JSON.parse(stdout) as ImportFigures;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const out = await mkdtemp(join(tmpdir(), 'fleet-audit-function-bundles-'));
try {
  await buildBundles(out);
  const rows = [];
  for (const name of FUNCTIONS) {
    const file = join(out, `${name}.mjs`);
    const bundleBytes = (await stat(file)).size;
    const zipBytes = deflateRawSync(await readFile(file), { level: 9 }).length;
    const runs: ImportFigures[] = [];
    for (let i = 0; i < IMPORTS; i++) runs.push(await importOnce(file));
    rows.push({
      function: name,
      bundleKiB: Math.round(bundleBytes / 1024),
      zipKiB: Math.round(zipBytes / 1024),
      importMs: Math.round(median(runs.map((r) => r.importMs))),
      rssMiB: Math.round(median(runs.map((r) => r.rssMiB))),
      heapMiB: Math.round(median(runs.map((r) => r.heapMiB))),
    });
  }
  console.table(rows);
  console.log(
    JSON.stringify({ node: process.versions.node, imports: IMPORTS, loadavg: (await import('node:os')).loadavg()[0], functions: rows }),
  );
} finally {
  await rm(out, { recursive: true, force: true });
}
