import { header, type HttpApiEvent } from './http-types.ts';

/** The largest request body the API reads. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Why a request body cannot be read: the status and the detail of the problem to answer. */
export interface BodyRejection {
  status: 400 | 413 | 415;
  detail: string;
}

/**
 * A request body as JSON: `{}` when there is none; refused when it is not declared as JSON (415), too large
 * (413) or not JSON (400). The detail never quotes the body.
 */
export function parseJsonBody(event: HttpApiEvent): { ok: true; value: unknown } | { ok: false; rejection: BodyRejection } {
  const text = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (text.trim() === '') return { ok: true, value: {} };
  const type = header(event, 'content-type');
  if (!type || !/^application\/json\s*(;|$)/i.test(type))
    return { ok: false, rejection: { status: 415, detail: 'the body must be JSON, sent with Content-Type: application/json' } };
  if (Buffer.byteLength(text, 'utf8') > MAX_REQUEST_BYTES)
    return { ok: false, rejection: { status: 413, detail: `the body is larger than ${MAX_REQUEST_BYTES} bytes` } };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, rejection: { status: 400, detail: 'the body is not valid JSON' } };
  }
}
