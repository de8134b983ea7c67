import { describe, expect, it } from 'vitest';
import { importCycles, readSources } from '../support/import-cycles.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('the import graph', () => {
  it('has no cycle among the sources of lib, cli, functions and sim', () => {
    expect(importCycles(readSources(ROOT, ['lib', 'cli', 'functions', 'sim']))).toEqual([]);
  });

  it('finds a cycle through type-only, re-exported and dynamic imports, and none in a chain', () => {
    const sources = new Map([
      ['lib/core/a.ts', "import type { B } from './b.ts';\n"],
      ['lib/core/b.ts', "export { c } from '../use-cases/c.ts';\n"],
      ['lib/use-cases/c.ts', "export const c = () => import('../core/a.ts');\n"],
      ['lib/core/d.ts', "import { z } from 'zod';\nimport type { B } from './b.ts';\n"],
      ['lib/core/e.ts', "import { e } from './e.ts';\n"],
    ]);
    expect(importCycles(sources)).toEqual([['lib/core/a.ts', 'lib/core/b.ts', 'lib/use-cases/c.ts'], ['lib/core/e.ts']]);
    sources.set('lib/use-cases/c.ts', 'export const c = 1;\n');
    sources.delete('lib/core/e.ts');
    expect(importCycles(sources)).toEqual([]);
  });
});
