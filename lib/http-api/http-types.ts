import { z } from 'zod';

/**
 * The HTTP API's request, as API Gateway's HTTP API sends it to Lambda (payload format 2.0): the same
 * event `fleet-audit serve` builds from a request on loopback, so both run one handler.
 */
export const HttpApiEventSchema = z.object({
  version: z.literal('2.0'),
  routeKey: z.string(),
  rawPath: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  queryStringParameters: z.record(z.string(), z.string()).optional(),
  pathParameters: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.looseObject({
    requestId: z.string(),
    http: z.looseObject({ path: z.string() }).optional(),
    authorizer: z.looseObject({ iam: z.looseObject({ userArn: z.string().optional() }).optional() }).optional(),
  }),
});
export type HttpApiEvent = z.infer<typeof HttpApiEventSchema>;

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** A header of the request; API Gateway lower-cases their names, so this does too. */
export function header(event: HttpApiEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** The request's path, for problem documents (`instance`). */
export function pathOf(event: HttpApiEvent): string {
  return event.rawPath ?? event.requestContext.http?.path ?? '/';
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: `${JSON.stringify(body)}\n`,
  };
}
