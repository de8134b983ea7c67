import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpResponse } from '../http-api/http-types.ts';

/** The most a request body may hold before the server answers 413 without reading on. */
const MAX_REQUEST_BYTES = 1024 * 1024;

/** The routes as API Gateway matches them: a method and a path whose `{name}` segments are parameters. */
export interface RouteKey {
  method: string;
  segments: string[];
  key: string;
}

/** A handler of API Gateway HTTP API events (payload 2.0). */
export type EventHandler = (event: unknown, context?: { awsRequestId: string }) => Promise<HttpResponse>;

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves API Gateway-style routes on loopback by turning each request into the event API Gateway would
 * send (payload 2.0) and handing it to the same handler Lambda runs. The caller is the local user: the
 * event carries an IAM identity that names `fleet-audit serve`.
 */
export async function startApiServer(options: {
  routes: readonly string[];
  handler: EventHandler;
  port: number;
  host?: string;
}): Promise<ApiServer> {
  const routes = options.routes.map(parseRouteKey);
  let sequence = 0;
  const server: Server = createServer((req, res) => {
    void answer(req, res, routes, options.handler, `serve-${++sequence}`).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/problem+json' });
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

function parseRouteKey(key: string): RouteKey {
  const [method, path] = key.split(' ') as [string, string];
  return { method, segments: path.split('/').slice(1), key };
}

/** The route a request matches, with its path parameters; unmatched requests keep their own method and path. */
export function matchRoute(
  routes: readonly RouteKey[],
  method: string,
  path: string,
): { routeKey: string; pathParameters?: Record<string, string> } {
  const segments = path.split('/').slice(1);
  for (const route of routes) {
    if (route.method !== method || route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const fits = route.segments.every((s, i) => {
      if (s.startsWith('{') && s.endsWith('}'))
        return segments[i] !== '' && (params[s.slice(1, -1)] = decodeSegment(segments[i]!)) !== undefined;
      return s === segments[i];
    });
    if (fits) return { routeKey: route.key, ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}) };
  }
  return { routeKey: `${method} ${path}` };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  routes: readonly RouteKey[],
  handler: EventHandler,
  requestId: string,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) {
      send(res, {
        statusCode: 413,
        headers: { 'content-type': 'application/problem+json' },
        body: `${JSON.stringify({ type: 'about:blank', title: 'Content Too Large', status: 413, detail: `the body is larger than ${MAX_REQUEST_BYTES} bytes`, instance: url.pathname })}\n`,
      });
      req.destroy();
      return;
    }
    chunks.push(chunk as Buffer);
  }
  const method = req.method ?? 'GET';
  const { routeKey, pathParameters } = matchRoute(routes, method, url.pathname);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name.toLowerCase()] = value;
  const query = Object.fromEntries(url.searchParams);
  const body = Buffer.concat(chunks);
  const event = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.searchParams.toString(),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(pathParameters ? { pathParameters } : {}),
    ...(body.length > 0 ? { body: body.toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
    requestContext: {
      requestId,
      routeKey,
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      authorizer: { iam: { userArn: 'arn:fleet-audit:serve:local-user' } },
    },
  };
  send(res, await handler(event, { awsRequestId: requestId }));
}

function send(res: ServerResponse, response: HttpResponse): void {
  res.writeHead(response.statusCode, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
  res.end(response.body);
}
