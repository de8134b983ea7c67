import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { reportJsonSchemaText } from '../../lib/core/report.ts';

describe('schema/report.schema.json', () => {
  it('is what the report zod schema generates (run scripts/generate-report-schema.ts after changing it)', () => {
    const committed = readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(reportJsonSchemaText());
  });
});
