import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { getAuditRoute, getReportRoute, listAuditsRoute, startAuditRoute } from './audits-routes.ts';
import { complianceRoute } from './compliance-route.ts';
import type { HttpApiDeps } from './deps.ts';
import { header, HttpApiEventSchema, jsonResponse, pathOf, type HttpApiEvent, type HttpResponse } from './http-types.ts';
import { problem } from './problem.ts';
import { parseJsonBody } from './request.ts';
import { firstIssueText } from '../shared/zod-issues.ts';

/** The routes served, as API Gateway names them in `routeKey` (DESIGN contract 6; docs/design.md). */
export const ROUTES = ['POST /audits', 'GET /audits', 'GET /audits/{runId}', 'GET /audits/{runId}/report', 'GET /compliance'] as const;
export type Route = (typeof ROUTES)[number];

/** How long a replayed `POST /audits` gets the first answer again. */
const IDEMPOTENCY_SECONDS = 24 * 3600;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/** The context Lambda passes; only the request id is read. */
export interface InvocationContext {
  awsRequestId: string;
}

/**
 * The HTTP API: one handler for Lambda (API Gateway HTTP API, IAM authorization, payload 2.0) and for
 * `fleet-audit serve`. Errors are RFC 9457 problem documents; a failure inside is logged and answered 500
 * without its details.
 */
export function createHttpApiHandler(deps: () => Promise<HttpApiDeps>) {
  return async (event: unknown, context?: InvocationContext): Promise<HttpResponse> => {
    const d = await deps();
    d.logger.resetKeys();
    d.logger.appendKeys({ trigger: 'http-api', ...(context ? { requestId: context.awsRequestId } : {}) });
    let instance = '/';
    try {
      const parsed = HttpApiEventSchema.safeParse(event);
      if (!parsed.success) return problem(400, `the request is malformed: ${firstIssueText(parsed.error)}`, instance);
      const request = parsed.data;
      instance = pathOf(request);
      const caller = request.requestContext.authorizer?.iam?.userArn;
      d.logger.appendKeys({ route: request.routeKey, ...(caller ? { caller } : {}) });
      // IAM authorization is configured on every route; a request without it reached us by mistake.
      if (!request.requestContext.authorizer?.iam) return problem(403, 'this API takes IAM-signed requests only', instance);
      const route = ROUTES.find((r) => r === request.routeKey);
      switch (route) {
        case 'POST /audits':
          return await postAudits(d, request, instance);
        case 'GET /audits':
          return await listAuditsRoute(d, request, instance);
        case 'GET /audits/{runId}':
          return await getAuditRoute(d, request.pathParameters?.runId, instance);
        case 'GET /audits/{runId}/report':
          return await getReportRoute(d, request, instance);
        case 'GET /compliance':
          return await complianceRoute(d, request, instance);
        case undefined:
          return problem(404, `no route ${request.routeKey}`, instance);
      }
    } catch (error) {
      d.logger.error('the request failed', { errorName: (error as Error).name, errorMessage: (error as Error).message });
      return problem(500, 'the request failed; the log has the details', instance, context ? { requestId: context.awsRequestId } : {});
    } finally {
      d.close();
    }
  };
}

/**
 * `POST /audits`. With an `Idempotency-Key` header the first answer is kept (Powertools idempotency): the
 * same key with the same body gets it again, the same key with another body is 409.
 */
async function postAudits(d: HttpApiDeps, event: HttpApiEvent, instance: string): Promise<HttpResponse> {
  const body = parseJsonBody(event);
  if (!body.ok) return problem(body.rejection.status, body.rejection.detail, instance);
  const key = header(event, 'idempotency-key');
  if (key === undefined) return startAuditRoute(d, body.value, instance);
  if (!IDEMPOTENCY_KEY.test(key)) return problem(400, 'the Idempotency-Key header must be 1 to 128 visible ASCII characters', instance);
  const start = makeIdempotent(
    async (request: { key: string; body: unknown }) => toStored(await startAuditRoute(d, request.body, instance)),
    {
      persistenceStore: d.idempotency,
      config: new IdempotencyConfig({
        eventKeyJmesPath: 'key',
        payloadValidationJmesPath: 'body',
        expiresAfterSeconds: IDEMPOTENCY_SECONDS,
      }),
    },
  );
  try {
    return fromStored(await start({ key, body: body.value }));
  } catch (error) {
    if (error instanceof IdempotencyValidationError) return problem(409, 'this Idempotency-Key was used with another body', instance);
    if (error instanceof IdempotencyAlreadyInProgressError)
      return problem(409, 'a request with this Idempotency-Key is still being answered; retry shortly', instance);
    throw error;
  }
}

/** A response as the idempotency store keeps it (plain JSON). */
interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

function toStored(response: HttpResponse): StoredResponse {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body };
}

function fromStored(stored: StoredResponse): HttpResponse {
  return stored.statusCode >= 200 ? stored : jsonResponse(500, { detail: 'unreadable stored response' });
}
