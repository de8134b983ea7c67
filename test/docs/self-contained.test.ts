import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the repository', () => {
  it('refers to its own documents only: docs/design.md and docs/controls.md, not a design kept elsewhere', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    const outside = /\b(?:DESIGN|CONTROLS)\.md\b|\.\.\/shared\/(?:DESIGN|CONTROLS|istio-samples)/;
    // This file names what it looks for.
    const offenders = files
      .filter((f) => f !== 'test/docs/self-contained.test.ts' && !/\.(png|gz|tgz|zip)$/.test(f))
      .filter((f) => outside.test(readFileSync(`${ROOT}${f}`, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
