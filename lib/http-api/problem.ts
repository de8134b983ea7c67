import type { HttpResponse } from './http-types.ts';

/** The status phrases of the problems this API answers with. */
const TITLES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
};

/**
 * An RFC 9457 problem document (`application/problem+json`). `type` is about:blank, so `title` is the
 * status phrase and `detail` says what was wrong with this request; `instance` is the request's path.
 * Details name fields and limits, never echo request content.
 */
export function problem(status: number, detail: string, instance: string, extra: Record<string, unknown> = {}): HttpResponse {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
    body: `${JSON.stringify({ type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, instance, ...extra })}\n`,
  };
}
