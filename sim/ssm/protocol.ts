import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { hashString } from '../random.ts';
import type { SimThrottle } from './options.ts';

/**
 * The JSON 1.1 protocol of the simulated SSM endpoint: request validation, authorization check, body reading,
 * answers and error shapes, paging tokens and throttling.
 */

export class SsmApiError extends Error {
  readonly type: string;
  readonly status: number;
  /** Modeled SSM errors carry `Message`; errors of the AWS front end carry `message`. */
  readonly modeled: boolean;

  constructor(type: string, message: string | undefined, options: { status?: number; modeled?: boolean } = {}) {
    super(message ?? '');
    this.type = type;
    this.status = options.status ?? 400;
    this.modeled = options.modeled ?? true;
  }
}

export function validationError(message: string): SsmApiError {
  return new SsmApiError('ValidationException', message, { modeled: false });
}

export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const parts = issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'string' ? p.charAt(0).toLowerCase() + p.slice(1) : String(p))).join('.');
    return `Value at '${path}' failed to satisfy constraint: ${issue.message}`;
  });
  throw validationError(`${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${parts.join('; ')}`);
}

/** Accepts any SigV4 signature but insists on a well-formed Authorization header, as a client bug would show. */
export function checkAuthorization(req: IncomingMessage): SsmApiError | undefined {
  const header = req.headers.authorization;
  if (header === undefined || header === '')
    return new SsmApiError('MissingAuthenticationTokenException', 'Missing Authentication Token', { status: 403, modeled: false });
  const sigv4 =
    /^AWS4-HMAC-SHA256 Credential=[^/\s]+\/\d{8}\/[a-z0-9-]+\/ssm\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/;
  if (!sigv4.test(header)) {
    return new SsmApiError(
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature for the ssm service',
      { modeled: false },
    );
  }
  if (req.headers['x-amz-date'] === undefined)
    return new SsmApiError(
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      { modeled: false },
    );
  return undefined;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > 1_048_576) throw new Error('request body larger than 1 MiB');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function respond(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

export function respondError(res: ServerResponse, err: SsmApiError): void {
  const payload: Record<string, string> = { __type: err.type };
  if (err.message !== '') payload[err.modeled ? 'Message' : 'message'] = err.message;
  respond(res, err.status, payload);
}

const PageTokenSchema = z.object({ o: z.number().int().min(0), f: z.string() });

/** Pages a list: NextToken is opaque, bound to the request it came from. */
export function page(items: unknown[], size: number, token: string | undefined, print: string, field: string): Record<string, unknown> {
  let offset = 0;
  if (token !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      decoded = undefined;
    }
    const parsed = PageTokenSchema.safeParse(decoded);
    if (!parsed.success || parsed.data.f !== print) throw new SsmApiError('InvalidNextToken', "The specified token isn't valid.");
    offset = parsed.data.o;
  }
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(JSON.stringify({ o: offset + size, f: print })).toString('base64url') : undefined;
  return next === undefined ? { [field]: slice } : { [field]: slice, NextToken: next };
}

export function fingerprint(...parts: unknown[]): string {
  return hashString(JSON.stringify(parts)).toString(36);
}

export function throttler(config: SimThrottle | undefined): (op: string) => boolean {
  if (!config) return () => false;
  let count = 0;
  const burst = config.burst ?? config.perSecond ?? 0;
  let tokens = burst;
  let refilledAt = Date.now();
  return (op) => {
    if (config.operations && !config.operations.includes(op)) return false;
    count++;
    if (config.everyNth !== undefined && count % config.everyNth === 0) return true;
    if (config.perSecond !== undefined) {
      const t = Date.now();
      tokens = Math.min(burst, tokens + ((t - refilledAt) / 1000) * config.perSecond);
      refilledAt = t;
      if (tokens < 1) return true;
      tokens -= 1;
    }
    return false;
  };
}
