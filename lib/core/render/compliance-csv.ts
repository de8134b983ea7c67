import type { ComplianceReport } from '../compliance/compliance-report.ts';
import { csvText } from './csv.ts';

/**
 * Compliance over time as CSV (RFC 4180): one row per control and day, the numbers an auditor charts.
 * Cells that a spreadsheet would run as a formula are neutralised, as in report.csv.
 */
export function renderComplianceCsv(compliance: ComplianceReport): string {
  const rows: string[][] = [
    ['control', 'severity', 'title', 'date', 'runs', 'pass', 'fail', 'error', 'waived', 'compliant_share', 'trend'],
  ];
  for (const c of compliance.controls) {
    for (const d of c.days) {
      rows.push([
        c.control,
        c.severity,
        c.title,
        d.date,
        String(d.runs),
        String(d.pass),
        String(d.fail),
        String(d.error),
        String(d.waived),
        d.compliantShare === null ? '' : String(d.compliantShare),
        c.trend,
      ]);
    }
  }
  return csvText(rows);
}
