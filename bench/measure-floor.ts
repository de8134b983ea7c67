/**
 * Child of the benchmark: the floor any analysis of a stored bundle stands on. It reads every file of
 * the bundle and JSON.parse's it, one file at a time, and does nothing else: no validation, no parsing of
 * the VMs' output, no report. An analysis can only be slower than this.
 *
 *   node bench/measure-floor.ts <bundle dir>
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reportToParent } from './child-measure.ts';

const [bundleDir] = process.argv.slice(2);
if (!bundleDir) throw new Error('usage: measure-floor.ts <bundle dir>');

const started = performance.now();
let files = 0;
let bytes = 0;
let values = 0;
for (const entry of await readdir(bundleDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const text = await readFile(join(entry.parentPath, entry.name), 'utf8');
  const value: unknown = JSON.parse(text);
  // Touch the result so that nothing can treat the parse as dead code.
  if (value !== null && typeof value === 'object') values++;
  files++;
  bytes += text.length;
}
const ms = performance.now() - started;
reportToParent({ ms, files, chars: bytes, objects: values });
