import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/**
 * Compares output with a golden file under test/golden/, byte for byte. `UPDATE_GOLDEN=1 npm test`
 * rewrites the files; review the diff before committing it.
 */
export function expectGolden(actual: string, name: string): void {
  const path = fileURLToPath(new URL(`../golden/${name}`, import.meta.url));
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.CI === 'true' && !existsSync(path))
      throw new Error(`golden file ${name} is missing; run UPDATE_GOLDEN=1 npm test and commit it`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
