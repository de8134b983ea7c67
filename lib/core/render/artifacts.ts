import { reportJsonText } from '../report-json.ts';
import type { Report } from '../report.ts';
import { renderHtmlReport } from './html-report.ts';

export interface RenderedArtifact {
  name: string;
  contentType: string;
  body: string;
}

/** Renders the report's files: report.json (the source of truth) and report.html. */
export function renderReportArtifacts(report: Report): RenderedArtifact[] {
  return [
    { name: 'report.json', contentType: 'application/json', body: reportJsonText(report) },
    { name: 'report.html', contentType: 'text/html; charset=utf-8', body: renderHtmlReport(report) },
  ];
}
