import { copyFile, mkdir, rm } from 'node:fs/promises';
import { build } from 'esbuild';

/**
 * Builds the npm package's command: cli/fleet-audit.ts bundled into dist/ as JavaScript for Node 22 and
 * newer. Dependencies stay external (npm installs them), and code splitting keeps what a command loads
 * lazily in chunks of its own, so a dev-only package behind a dynamic import is never loaded by the
 * production paths. The diagnostic script is copied beside the bundle, where the CLI looks for it.
 */
const OUT = new URL('../dist/', import.meta.url);

await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
await build({
  entryPoints: [new URL('../cli/fleet-audit.ts', import.meta.url).pathname],
  outdir: OUT.pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  minify: false,
  sourcemap: false,
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
});
await copyFile(new URL('../lib/diagnostic-script/fleet-audit-diagnostics.sh', import.meta.url), new URL('fleet-audit-diagnostics.sh', OUT));
