/** Writing the fake VM's files, and reading the captured files they start from. */
import { chmodSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture as testFixture } from '../../support/fixtures.ts';

/** Writes a file, making its directory, with its mode and, when given, its modification time. */
export function write(path: string, content: string, mode = 0o644, mtime?: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
  if (mtime !== undefined) utimesSync(path, mtime, mtime);
}

/** A file of test/fixtures/fake-vm/: Istio 1.24.6 test data, whose README there says where each file comes from. */
export function fixture(name: string): string {
  return testFixture(`fake-vm/${name}`);
}

/** Lines as a file holds them: each ended by a newline. */
export function lines(items: readonly string[]): string {
  return items.map((line) => `${line}\n`).join('');
}
