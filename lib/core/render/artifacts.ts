import { reportJsonChunks } from '../report-json.ts';
import { z } from 'zod';
import type { Manifest } from '../evidence-bundle.ts';
import type { Report } from '../report.ts';
import { renderHtmlReport } from './html-report.ts';
import { reportCsvChunks } from './report-csv.ts';
import { reportJunitChunks } from './report-junit.ts';
import { reportOcsfChunks, type OcsfContext } from './report-ocsf.ts';
import { AWS_REGION } from '../../shared/identifiers.ts';

export interface RenderedArtifact {
  name: string;
  contentType: string;
  body: string;
}

/** A report file rendered as it is read: each chunk is made when the writer asks for it. */
export interface StreamedArtifact {
  name: string;
  contentType: string;
  body: Iterable<string>;
}

/** The report files, by the name `--format` and the API's `?format=` give them; json is the source of truth. */
export const REPORT_FORMATS = ['json', 'html', 'csv', 'junit', 'ocsf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** What some renderings name beyond the report itself (see renderContextOf). */
export type RenderContext = OcsfContext;

const ARTIFACTS: Record<
  ReportFormat,
  { name: string; contentType: string; render: (report: Report, context: RenderContext) => Iterable<string> }
> = {
  json: { name: 'report.json', contentType: 'application/json', render: reportJsonChunks },
  // The page is a tenth of report.json's size (a summary and a VM table): it is rendered whole.
  html: { name: 'report.html', contentType: 'text/html; charset=utf-8', render: (report) => [renderHtmlReport(report)] },
  csv: { name: 'report.csv', contentType: 'text/csv; charset=utf-8', render: reportCsvChunks },
  junit: { name: 'report.junit.xml', contentType: 'application/xml; charset=utf-8', render: reportJunitChunks },
  ocsf: { name: 'report.ocsf.json', contentType: 'application/json; charset=utf-8', render: reportOcsfChunks },
};

/** The file a format is written to. */
export function reportFileOf(format: ReportFormat): string {
  return ARTIFACTS[format].name;
}

export interface RenderRequest {
  /** The renderings wanted (default: all). report.json is rendered whatever is asked: every other file is made from it. */
  formats?: readonly ReportFormat[];
  context?: RenderContext;
}

/** Renders the report's files, report.json first, the others in REPORT_FORMATS order. */
export function renderReportArtifacts(report: Report, request: RenderRequest = {}): RenderedArtifact[] {
  return [...renderEach(report, request)].map(({ body, ...artifact }) => ({ ...artifact, body: [...body].join('') }));
}

/**
 * The report's files one at a time, in the order of renderReportArtifacts, each rendered as its writer
 * reads it. At 10,000 VMs each file is tens to hundreds of megabytes: a caller that writes each before
 * asking for the next never holds one whole.
 */
export function* renderEach(report: Report, { formats = REPORT_FORMATS, context = {} }: RenderRequest = {}): Generator<StreamedArtifact> {
  const wanted = new Set<ReportFormat>(['json', ...formats]);
  for (const format of REPORT_FORMATS) {
    if (!wanted.has(format)) continue;
    const { name, contentType, render } = ARTIFACTS[format];
    yield { name, contentType, body: render(report, context) };
  }
}

// The manifest's `targets` is free-form (each source records its own); only a region of AWS's form is taken.
const TargetsWithRegionSchema = z.looseObject({ region: z.string().regex(AWS_REGION) });

/**
 * What the bundle's manifest says that renderings name: the version of the tool that collected it and the
 * AWS region audited. Both come from the bundle, not from the machine that renders, so the same bundle
 * always gives the same files.
 */
export function renderContextOf(manifest: Manifest): RenderContext {
  const targets = TargetsWithRegionSchema.safeParse(manifest.targets);
  return {
    ...(manifest.toolVersion === undefined ? {} : { toolVersion: manifest.toolVersion }),
    ...(targets.success ? { region: targets.data.region } : {}),
  };
}
