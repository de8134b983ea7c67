import { holdUnanswered, type SimFaultPlan } from './fault-plan.ts';

/**
 * The fault plan of the S3-compatible endpoint as a step in front of s3rver: S3's operation names from
 * the request's method and path (path-style), and S3's answers for each kind of fault: 503 SlowDown for
 * throttling, 500 InternalError, or no answer (S3 API reference, "Error responses").
 */

/** The part of a Koa context the step uses. */
export interface S3FaultContext {
  method: string;
  path: string;
  querystring: string;
  status: number;
  type: string;
  body: unknown;
  respond?: boolean;
  res: { once(event: 'close', listener: () => void): unknown; destroyed?: boolean };
}

/** The S3 operation a path-style request is, as the SDK names it (`GetObject`, `PutObject`, `ListObjectsV2`…). */
export function s3OperationOf(method: string, path: string, querystring: string): string {
  const objectKey = /^\/[^/]+\/.+/.test(path);
  const query = new URLSearchParams(querystring);
  if (objectKey) {
    if (method === 'GET') return 'GetObject';
    if (method === 'PUT') return 'PutObject';
    if (method === 'HEAD') return 'HeadObject';
    if (method === 'DELETE') return 'DeleteObject';
    return `${method} object`;
  }
  if (method === 'GET') return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
  if (method === 'PUT') return 'CreateBucket';
  return `${method} bucket`;
}

export function s3FaultStep(plan: SimFaultPlan): (ctx: S3FaultContext, next: () => Promise<void>) => Promise<void> {
  return async (ctx, next) => {
    const fault = plan.take(s3OperationOf(ctx.method, ctx.path, ctx.querystring), decodeURIComponent(ctx.path));
    if (fault === undefined) return next();
    if (fault === 'timeout') {
      ctx.respond = false;
      return holdUnanswered(ctx.res);
    }
    const [status, code, message] =
      fault === 'throttle'
        ? [503, 'SlowDown', 'Please reduce your request rate.']
        : [500, 'InternalError', 'We encountered an internal error. Please try again.'];
    ctx.status = status;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  };
}
