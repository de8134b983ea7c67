import { z } from 'zod';
import type { AuditRun, CommandFleet, RunRegistry, StoredRuns } from '../lib/ports/run-registry.ts';
import type { AuditStore } from '../lib/ports/audit-store.ts';
import { getAuditReport, getAuditRun } from '../lib/use-cases/audit-queries.ts';
import { startAudit } from '../lib/use-cases/start-audit.ts';
import { isInstanceId, isRunId } from '../lib/adapters/bundle-layout.ts';
import { auditSideFromEnv } from './shared/aws.ts';
import { once } from './shared/config.ts';
import { describeIssues, newRunId } from './shared/events.ts';
import { createLogger, errorFields, type HandlerLogger, type InvocationContext } from './shared/logger.ts';

/**
 * The HTTP API (API Gateway HTTP API, IAM authorization, payload format 2.0):
 *   POST /audits                    start an on-demand audit (body: {"instanceIds"?: [...]}, default: the target tag)
 *   GET  /audits/{runId}            the run's status
 *   GET  /audits/{runId}/report     the run's report.json, validated against the report schema
 */

/** The part of an API Gateway v2 (HTTP API) event the routes read. */
export const HttpApiEventSchema = z.object({
  version: z.literal('2.0'),
  routeKey: z.string(),
  pathParameters: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.looseObject({
    requestId: z.string(),
    authorizer: z.looseObject({ iam: z.looseObject({ userArn: z.string().optional() }).optional() }).optional(),
  }),
});

/** The routes served, as API Gateway names them in `routeKey`. */
export const ROUTES = ['POST /audits', 'GET /audits/{runId}', 'GET /audits/{runId}/report'] as const;

const MAX_INSTANCE_IDS = 1000;
const MAX_BODY_BYTES = 64 * 1024;

/** The body of `POST /audits`. */
export const StartAuditBodySchema = z.strictObject({
  instanceIds: z
    .array(z.string().refine(isInstanceId, { error: 'must be an SSM managed node id (i-… or mi-… and 8 to 32 hex digits)' }))
    .min(1, { error: 'must list at least one instance id (leave it out to audit the target tag)' })
    .max(MAX_INSTANCE_IDS, { error: `must list at most ${MAX_INSTANCE_IDS} instance ids` })
    .optional(),
});

export interface HttpApiDeps {
  registry: RunRegistry;
  store: AuditStore & StoredRuns;
  /** The fleet for a run: the instances listed, or the configured target tag. */
  fleet(runId: string, instanceIds?: string[]): CommandFleet;
  clock: () => Date;
  collectForMs: number;
  toolVersion: string;
  /** What the run targets by default, recorded in its manifest. */
  defaultTargets: unknown;
  logger: HandlerLogger;
  close(): void;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

function respond(statusCode: number, body: unknown): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: `${JSON.stringify(body)}\n` };
}

const problem = (statusCode: number, message: string): HttpResponse => respond(statusCode, { message });

/** The handler, over dependencies made once per container. */
export function createHttpApiHandler(deps: () => Promise<HttpApiDeps>) {
  return async (event: unknown, context?: InvocationContext): Promise<HttpResponse> => {
    const d = await deps();
    d.logger.resetKeys();
    d.logger.appendKeys({ trigger: 'http-api', ...(context ? { requestId: context.awsRequestId } : {}) });
    try {
      const parsed = HttpApiEventSchema.safeParse(event);
      if (!parsed.success) return problem(400, `the request is malformed: ${describeIssues(parsed.error)}`);
      const request = parsed.data;
      const caller = request.requestContext.authorizer?.iam?.userArn;
      d.logger.appendKeys({ route: request.routeKey, ...(caller ? { caller } : {}) });
      // IAM authorization is configured on every route; a request without it reached us by mistake.
      if (!request.requestContext.authorizer?.iam) return problem(403, 'this API takes IAM-signed requests only');
      const route = ROUTES.find((r) => r === request.routeKey);
      switch (route) {
        case 'POST /audits':
          return await postAudit(d, request);
        case 'GET /audits/{runId}':
          return await getRun(d, request.pathParameters?.runId);
        case 'GET /audits/{runId}/report':
          return await getReport(d, request.pathParameters?.runId);
        case undefined:
          return problem(404, `no route ${request.routeKey}`);
      }
    } catch (error) {
      d.logger.error('the request failed', errorFields(error));
      return respond(500, { message: 'the request failed; the function log has the details', requestId: context?.awsRequestId });
    } finally {
      d.close();
    }
  };
}

async function postAudit(d: HttpApiDeps, request: z.infer<typeof HttpApiEventSchema>): Promise<HttpResponse> {
  const text = request.body === undefined ? '' : request.isBase64Encoded ? Buffer.from(request.body, 'base64').toString('utf8') : request.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) return problem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
  let raw: unknown = {};
  if (text.trim() !== '') {
    try {
      raw = JSON.parse(text);
    } catch {
      return problem(400, 'the body is not valid JSON');
    }
  }
  const body = StartAuditBodySchema.safeParse(raw);
  if (!body.success) return problem(400, `invalid request body: ${describeIssues(body.error)}`);
  const instanceIds = body.data.instanceIds ? [...new Set(body.data.instanceIds)] : undefined;
  const runId = newRunId(d.clock(), 'api');
  d.logger.appendKeys({ runId });
  const result = await startAudit(
    { registry: d.registry, store: d.store, fleet: (id) => d.fleet(id, instanceIds), clock: d.clock },
    { runId, trigger: 'api', toolVersion: d.toolVersion, targets: instanceIds ? { instanceIds } : d.defaultTargets, collectForMs: d.collectForMs },
  );
  if (result.kind === 'duplicate') return problem(409, `an audit run ${runId} exists already`);
  d.logger.info('audit started', { commands: result.commandIds.length, expected: result.expected });
  return respond(202, {
    runId,
    status: 'COLLECTING',
    expected: result.expected,
    deadline: result.deadline,
    links: { self: `/audits/${runId}`, report: `/audits/${runId}/report` },
  });
}

function checkRunId(runId: string | undefined): string | HttpResponse {
  if (runId === undefined || !isRunId(runId)) return problem(400, 'the run id must be 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit');
  return runId;
}

async function getRun(d: HttpApiDeps, rawRunId: string | undefined): Promise<HttpResponse> {
  const runId = checkRunId(rawRunId);
  if (typeof runId !== 'string') return runId;
  d.logger.appendKeys({ runId });
  const run = await getAuditRun(d, runId);
  return run ? respond(200, runView(run)) : problem(404, `no audit run ${runId}`);
}

async function getReport(d: HttpApiDeps, rawRunId: string | undefined): Promise<HttpResponse> {
  const runId = checkRunId(rawRunId);
  if (typeof runId !== 'string') return runId;
  d.logger.appendKeys({ runId });
  const found = await getAuditReport(d, runId);
  switch (found.kind) {
    case 'report':
      return respond(200, found.report);
    case 'unknown-run':
      return problem(404, `no audit run ${runId}`);
    case 'no-report':
      return problem(409, `audit run ${runId} has no report: it is ${found.status}`);
    case 'invalid-report':
      d.logger.error('a stored report does not hold to the report schema', { problem: found.problem });
      return problem(500, `the stored report of audit run ${runId} is not valid, so it is not served`);
  }
}

/** A run as the API shows it. */
function runView(run: AuditRun): Record<string, unknown> {
  return { ...run, links: { self: `/audits/${run.runId}`, report: `/audits/${run.runId}/report` } };
}

/** Lambda entry point. */
export const handler = createHttpApiHandler(
  once(async () => {
    const { storage, fleetConfig, store, registry, fleets } = auditSideFromEnv(process.env);
    return {
      registry,
      store,
      fleet: (runId: string, instanceIds?: string[]) => fleets.fleet(runId, instanceIds ? { kind: 'instanceIds', instanceIds } : undefined),
      clock: () => new Date(),
      collectForMs: fleetConfig.collectForMs,
      toolVersion: storage.toolVersion,
      defaultTargets: { tag: fleetConfig.tag },
      logger: createLogger(),
      close: () => fleets.close(),
    };
  }),
);
