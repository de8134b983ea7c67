/**
 * The code that names a failure: an AWS SDK error's `Code` (S3's XML errors) or `name` (the JSON protocols'
 * error type), or a Node system error's `code` (ECONNRESET…). `Code` first, then `code`, then `name`: a
 * dropped connection carries both a code and the SDK's generic name, and its code says more.
 */
export function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'UnknownError';
  const e = error as { Code?: unknown; code?: unknown; name?: unknown };
  if (typeof e.Code === 'string' && e.Code) return e.Code;
  if (typeof e.code === 'string' && e.code) return e.code;
  if (typeof e.name === 'string' && e.name && e.name !== 'Error') return e.name;
  return 'UnknownError';
}

/** An error's message, or the thrown value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
