import type { Report } from '../report.ts';
import { csvRecords } from './csv.ts';
import { findingPlacer } from './finding-subject.ts';

export const REPORT_CSV_COLUMNS = [
  'control',
  'title',
  'severity',
  'status',
  'subject_kind',
  'subject_id',
  'instance_id',
  'hostname',
  'namespace',
  'message',
  'remediation',
  'evidence',
] as const;

/**
 * report.csv: one row per finding, for a spreadsheet or a SIEM import. The columns are REPORT_CSV_COLUMNS;
 * instance_id, hostname and namespace place the finding on its VM (for a proxy or WorkloadEntry, the VM
 * that claims it), and evidence is the finding's evidence as compact JSON.
 */
export function renderReportCsv(report: Report): string {
  return [...reportCsvChunks(report)].join('');
}

/** report.csv a record at a time, so that a writer never holds the whole text. */
export function reportCsvChunks(report: Report): Generator<string> {
  return csvRecords(reportCsvRows(report));
}

function* reportCsvRows(report: Report): Generator<string[]> {
  const place = findingPlacer(report);
  yield [...REPORT_CSV_COLUMNS];
  for (const f of report.findings) {
    const { vm, namespace } = place(f);
    yield [
      f.control,
      report.summary.byControl[f.control]?.title ?? '',
      f.severity,
      f.status,
      f.subject.kind,
      f.subject.id,
      vm?.instanceId ?? '',
      vm?.hostname ?? '',
      namespace ?? '',
      f.message,
      f.remediation,
      JSON.stringify(f.evidence),
    ].map(withoutControlCharacters);
  }
}

/**
 * Control characters other than tab, CR and LF (NUL, ESC, …) become U+FFFD: a VM can send them, and
 * spreadsheets and importers cut or misread a cell at them. Tab, CR and LF are kept and quoted. A lone
 * surrogate, which UTF-8 cannot encode, becomes U+FFFD here rather than wherever the file is written.
 */
function withoutControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.toWellFormed().replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\uFFFD');
}
