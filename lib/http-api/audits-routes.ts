import { z } from 'zod';
import { ReportSchema } from '../core/report.ts';
import type { ReportFileName } from '../ports/report-files.ts';
import { RunCursorError, type AuditRun } from '../ports/run-registry.ts';
import type { AuditTarget, HttpApiDeps } from './deps.ts';
import { jsonResponse, type HttpApiEvent, type HttpResponse } from './http-types.ts';
import { problem } from './problem.ts';
import { INSTANCE_ID, isRunId } from '../shared/identifiers.ts';
import { firstIssueText } from '../shared/zod-issues.ts';

const MAX_INSTANCE_IDS = 1000;
const TAG = /^(?<key>[\p{L}\p{Z}\p{N}_.:/+\-@]{1,128})=(?<values>[\p{L}\p{Z}\p{N}_.:/=+\-@,]{1,1024})$/u;
const NAMESPACE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/** The body of `POST /audits`: at most one target; none means the deployment's default target. */
export const StartAuditBodySchema = z
  .strictObject({
    instanceIds: z
      .array(z.string().regex(INSTANCE_ID, { error: 'must be an SSM managed node id (i- and 8 or 17 hex digits, or mi- and 17)' }))
      .min(1, { error: 'must list at least one instance id (leave it out to audit the default target)' })
      .max(MAX_INSTANCE_IDS, { error: `must list at most ${MAX_INSTANCE_IDS} instance ids` })
      .optional(),
    tag: z.string().regex(TAG, { error: 'must be KEY=VALUE (or KEY=VALUE1,VALUE2)' }).optional(),
    namespace: z.string().regex(NAMESPACE, { error: 'must be a Kubernetes namespace name' }).optional(),
  })
  .refine((b) => [b.instanceIds, b.tag, b.namespace].filter((t) => t !== undefined).length <= 1, {
    error: 'give at most one of instanceIds, tag and namespace',
  });

/** The target a validated body names. */
export function targetOf(body: z.infer<typeof StartAuditBodySchema>): AuditTarget {
  if (body.instanceIds) return { kind: 'instanceIds', instanceIds: [...new Set(body.instanceIds)] };
  if (body.tag) {
    const m = TAG.exec(body.tag)!.groups!;
    return { kind: 'tag', key: m.key!, values: m.values!.split(',').filter(Boolean) };
  }
  if (body.namespace) return { kind: 'namespace', namespace: body.namespace };
  return { kind: 'default' };
}

/** `POST /audits` without idempotency: validates, starts, answers 202 with the run's links and Location. */
export async function startAuditRoute(d: HttpApiDeps, body: unknown, instance: string): Promise<HttpResponse> {
  const parsed = StartAuditBodySchema.safeParse(body);
  if (!parsed.success) return problem(400, `invalid request body: ${firstIssueText(parsed.error)}`, instance);
  const runId = d.newRunId();
  d.logger.appendKeys({ runId });
  const started = await d.startRun(runId, targetOf(parsed.data));
  if (started.kind === 'duplicate') return problem(409, `an audit run ${runId} exists already`, instance);
  if (started.kind === 'refused') return problem(422, started.detail, instance);
  d.logger.info('audit started', { status: started.status });
  return jsonResponse(202, { runId, status: started.status, links: links(runId) }, { location: `/audits/${runId}` });
}

const ListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(2048).optional(),
});

/** `GET /audits?limit=&cursor=`: runs newest first, a page at a time. */
export async function listAuditsRoute(d: HttpApiDeps, event: HttpApiEvent, instance: string): Promise<HttpResponse> {
  const query = ListQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) return problem(400, `invalid query: ${firstIssueText(query.error)}`, instance);
  try {
    const page = await d.registry.list({ limit: query.data.limit, ...(query.data.cursor ? { cursor: query.data.cursor } : {}) });
    return jsonResponse(200, { items: page.runs.map(runView), ...(page.next ? { next: page.next } : {}) });
  } catch (error) {
    if (error instanceof RunCursorError) return problem(400, `invalid query: cursor: ${error.message}`, instance);
    throw error;
  }
}

/** `GET /audits/{runId}`. */
export async function getAuditRoute(d: HttpApiDeps, runId: string | undefined, instance: string): Promise<HttpResponse> {
  const checked = checkRunId(runId, instance);
  if (typeof checked !== 'string') return checked;
  d.logger.appendKeys({ runId: checked });
  const run = await d.registry.get(checked);
  return run ? jsonResponse(200, runView(run)) : problem(404, `no audit run ${checked}`, instance);
}

const FORMATS: Record<string, { file: ReportFileName; contentType: string }> = {
  json: { file: 'report.json', contentType: 'application/json; charset=utf-8' },
  html: { file: 'report.html', contentType: 'text/html; charset=utf-8' },
  csv: { file: 'report.csv', contentType: 'text/csv; charset=utf-8' },
  junit: { file: 'report.junit.xml', contentType: 'application/xml; charset=utf-8' },
  ocsf: { file: 'report.ocsf.json', contentType: 'application/json; charset=utf-8' },
};
const ReportQuerySchema = z.strictObject({ format: z.enum(Object.keys(FORMATS) as [string, ...string[]]).default('json') });

/** `GET /audits/{runId}/report?format=`: the body when small, else 303 to a short-lived link. */
export async function getReportRoute(d: HttpApiDeps, event: HttpApiEvent, instance: string): Promise<HttpResponse> {
  const checked = checkRunId(event.pathParameters?.runId, instance);
  if (typeof checked !== 'string') return checked;
  d.logger.appendKeys({ runId: checked });
  const query = ReportQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) return problem(400, `invalid query: ${firstIssueText(query.error)}`, instance);
  const format = FORMATS[query.data.format]!;
  const run = await d.registry.get(checked);
  if (!run) return problem(404, `no audit run ${checked}`, instance);
  if (run.status !== 'DONE')
    return problem(409, `audit run ${checked} has no report: it is ${run.status}`, instance, { runStatus: run.status });
  const size = await d.reports.size(checked, format.file);
  if (size === undefined) return problem(404, `audit run ${checked} has no ${query.data.format} report`, instance);
  if (size > d.maxBodyBytes) {
    const link = await d.reports.link(checked, format.file);
    if (link) return { statusCode: 303, headers: { location: link, 'cache-control': 'no-store' }, body: '' };
  }
  const text = await d.reports.read(checked, format.file);
  if (text === undefined) return problem(404, `audit run ${checked} has no ${query.data.format} report`, instance);
  if (format.file === 'report.json') {
    // A stored report is read back as untrusted input: only one that holds to the schema is served.
    const valid = validReport(text, checked);
    if (valid !== true) {
      d.logger.error('a stored report does not hold to the report schema', { problem: valid });
      return problem(500, `the stored report of audit run ${checked} is not valid, so it is not served`, instance);
    }
  }
  return { statusCode: 200, headers: { 'content-type': format.contentType, 'cache-control': 'no-store' }, body: text };
}

function validReport(text: string, runId: string): true | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'report.json is not valid JSON';
  }
  const parsed = ReportSchema.safeParse(raw);
  if (!parsed.success) return `report.json: ${firstIssueText(parsed.error)}`;
  return parsed.data.runId === runId ? true : `report.json holds another run`;
}

function checkRunId(runId: string | undefined, instance: string): string | HttpResponse {
  if (runId === undefined || !isRunId(runId))
    return problem(400, 'the run id must be 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit', instance);
  return runId;
}

function links(runId: string): Record<string, string> {
  return { self: `/audits/${runId}`, report: `/audits/${runId}/report` };
}

/** A run as the API shows it. */
function runView(run: AuditRun): Record<string, unknown> {
  return { ...run, links: links(run.runId) };
}
