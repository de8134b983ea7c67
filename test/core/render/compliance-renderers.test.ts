import { describe, expect, it } from 'vitest';
import { computeCompliance, parsePeriod } from '../../../lib/core/compliance/compliance-report.ts';
import { renderComplianceCsv } from '../../../lib/core/render/compliance-csv.ts';
import { csvCell } from '../../../lib/core/render/csv.ts';
import { renderComplianceHtml } from '../../../lib/core/render/compliance-html.ts';
import { renderComplianceSummary } from '../../../lib/core/render/compliance-terminal.ts';
import { sampleDigests } from '../../support/compliance-history.ts';
import { expectGolden } from '../../support/golden.ts';

const compliance = computeCompliance(sampleDigests(), parsePeriod('30d')!);

describe('compliance renderers', () => {
  it('CSV: one row per control and day', () => expectGolden(renderComplianceCsv(compliance), 'compliance.csv'));
  it('HTML: the page with a trend line per control', () => expectGolden(renderComplianceHtml(compliance), 'compliance.html'));
  it('terminal: the summary', () => expectGolden(renderComplianceSummary(compliance), 'compliance-summary.txt'));

  it('escapes what came from the cluster in the page', () => {
    const hostile = structuredClone(compliance);
    hostile.openFindings[0]!.subject.id = '<img src=x onerror=alert(1)>';
    hostile.waivers[0]!.justification = '"><script>alert(1)</script>';
    const html = renderComplianceHtml(hostile);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('neutralises spreadsheet formulas and quotes what needs it', () => {
    expect(['=1+1', '+1', '-cmd', '@SUM(A1)', '\tx', '\rx'].map(csvCell)).toEqual(["'=1+1", "'+1", "'-cmd", "'@SUM(A1)", "'\tx", `"'\rx"`]);
    expect(['-0.5', 'a,b', 'say "hi"', 'line\nbreak'].map(csvCell)).toEqual(['-0.5', '"a,b"', '"say ""hi"""', '"line\nbreak"']);
  });
});
