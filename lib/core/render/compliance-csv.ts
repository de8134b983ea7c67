import type { ComplianceReport } from '../compliance/compliance-report.ts';

/**
 * Compliance over time as CSV (RFC 4180): one row per control and day, the numbers an auditor charts.
 * Cells that a spreadsheet would run as a formula are neutralised, as in report.csv.
 */
export function renderComplianceCsv(compliance: ComplianceReport): string {
  const rows: string[][] = [['control', 'severity', 'title', 'date', 'runs', 'pass', 'fail', 'error', 'waived', 'compliant_share', 'trend']];
  for (const c of compliance.controls) {
    for (const d of c.days) {
      rows.push([c.control, c.severity, c.title, d.date, String(d.runs), String(d.pass), String(d.fail), String(d.error), String(d.waived), d.compliantShare === null ? '' : String(d.compliantShare), c.trend]);
    }
  }
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** One RFC 4180 cell; text a spreadsheet would evaluate (= + - @, tab, CR) is prefixed with a quote. */
export function csvCell(value: string): string {
  const neutral = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?(e-?\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(neutral) ? `"${neutral.replaceAll('"', '""')}"` : neutral;
}
