import { readFileSync } from 'node:fs';

/** Reads a file under test/fixtures/. */
export function fixture(path: string): string {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
}
