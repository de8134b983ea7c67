import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTROLS } from '../../lib/core/controls/catalogue.ts';

// The catalogue's page is the documentation users read; it must name exactly the controls the code evaluates.
const page = readFileSync(new URL('../../docs/controls.md', import.meta.url), 'utf8');
const ROW = /^\| (?<id>[A-Z]+-\d{2}) \| (?<severity>[A-Z]+) \| (?<subject>[a-z]+) \|/gm;
const documented = new Map(
  [...page.matchAll(ROW)].map((m) => [m.groups!.id!, { severity: m.groups!.severity!, subject: m.groups!.subject! }]),
);

describe('docs/controls.md', () => {
  it('documents every control of the code with its severity and subject', () => {
    const missing = CONTROLS.filter((c) => !documented.has(c.id)).map((c) => c.id);
    expect(missing).toEqual([]);
    for (const control of CONTROLS) {
      expect(documented.get(control.id), control.id).toEqual({ severity: control.severity, subject: control.subject });
    }
  });

  it('names no control the code does not have', () => {
    const known = new Set(CONTROLS.map((c) => c.id));
    expect([...documented.keys()].filter((id) => !known.has(id))).toEqual([]);
  });
});
