import { describe, expect, it } from 'vitest';
import { REPORT_CSV_COLUMNS, renderReportCsv } from '../../../lib/core/render/report-csv.ts';
import { expectGolden } from '../../support/golden.ts';
import { HOSTILE_TEXT, hostileReport } from '../../support/hostile-report.ts';
import { parseRfc4180 } from '../../support/rfc4180.ts';
import { sampleReport } from '../../support/sample-report.ts';

const FORMULA_START = /^[=+\-@\t\r]/;

describe('renderReportCsv', () => {
  it('renders one row per finding as RFC 4180', () => {
    expectGolden(renderReportCsv(hostileReport()), 'report.csv');
  });

  it('reads back, cell for cell, as the findings it was made from', () => {
    const report = hostileReport();
    const [header, ...rows] = parseRfc4180(renderReportCsv(report));
    expect(header).toEqual([...REPORT_CSV_COLUMNS]);
    expect(rows).toHaveLength(report.findings.length);
    const cell = (row: string[], column: (typeof REPORT_CSV_COLUMNS)[number]): string => row[REPORT_CSV_COLUMNS.indexOf(column)]!;
    rows.forEach((row, i) => {
      const f = report.findings[i]!;
      expect(row).toHaveLength(REPORT_CSV_COLUMNS.length);
      expect([
        cell(row, 'control'),
        cell(row, 'severity'),
        cell(row, 'status'),
        cell(row, 'subject_kind'),
        cell(row, 'subject_id'),
      ]).toEqual([f.control, f.severity, f.status, f.subject.kind, f.subject.id]);
      expect(JSON.parse(cell(row, 'evidence'))).toEqual(JSON.parse(JSON.stringify(f.evidence)));
    });
    // A VM's hostname that is a formula comes back as text, quote-prefixed, with its own quotes intact.
    expect(cell(rows[0]!, 'hostname')).toBe(`'${HOSTILE_TEXT.formula}`);
    expect(cell(rows[0]!, 'namespace')).toBe('payments');
    // CRLF, CR, commas and quotes inside a message survive the round trip.
    const regOrphan = rows.find((r) => cell(r, 'control') === 'REG-02')!;
    expect(JSON.parse(cell(regOrphan, 'evidence')).labels['\tversion']).toBe(HOSTILE_TEXT.lines);
    expect(cell(regOrphan, 'namespace')).toBe('payments');
    const proxyRow = rows.find((r) => cell(r, 'subject_kind') === 'proxy')!;
    expect([cell(proxyRow, 'instance_id'), cell(proxyRow, 'namespace')]).toEqual(['i-0a1b2c3d4e5f60001', 'payments']);
  });

  it('starts no cell with what a spreadsheet evaluates, and keeps no control character but tab, CR and LF', () => {
    const rows = parseRfc4180(renderReportCsv(hostileReport()));
    for (const value of rows.flat()) expect(value).not.toMatch(FORMULA_START);
    const text = renderReportCsv(hostileReport());
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
    expect(text).toContain(`,'@ISTIO_CUSTOM_IP_TABLES=true: the operator installs the capture rules,`);
    expect(text).toContain(
      `"proxy web-1.payments is connected but its VM reports another proxy id: bell\uFFFD nul\uFFFD esc\uFFFD[31mred\uFFFD[0m vt\uFFFD lone\uFFFD fffe\uFFFE first line\r\nsecond, ""quoted"" line\rthird"`,
    );
    expect(text).toContain(`"'-Run \`curl -v localhost:15021/healthz/ready\`, then read ""/var/log/istio/istio.log""."`);
  });

  it('reads back for a report the analyzer made', () => {
    const report = sampleReport();
    const rows = parseRfc4180(renderReportCsv(report));
    expect(rows).toHaveLength(report.findings.length + 1);
    expect(rows.every((r) => r.length === REPORT_CSV_COLUMNS.length)).toBe(true);
  });
});
