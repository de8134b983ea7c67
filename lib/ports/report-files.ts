/** The report files a finished run keeps beside its evidence (report.json, report.html, …). */
export const REPORT_FILE_NAMES = ['report.json', 'report.html', 'report.csv', 'report.junit.xml', 'report.ocsf.json'] as const;
export type ReportFileName = (typeof REPORT_FILE_NAMES)[number];

/** Reads a run's report files, for the API: their size first, then the body, or a link when the body is too large to send. */
export interface ReportFiles {
  /** The file's size in bytes, or undefined when the run has no such file. */
  size(runId: string, name: ReportFileName): Promise<number | undefined>;
  /** The file's text, or undefined when there is none. */
  read(runId: string, name: ReportFileName): Promise<string | undefined>;
  /** A short-lived URL the file can be fetched from directly, when the store can give one. */
  link(runId: string, name: ReportFileName): Promise<string | undefined>;
}
