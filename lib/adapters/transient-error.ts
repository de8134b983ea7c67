/**
 * Which failures of AWS and Kubernetes calls are transient: worth trying again later without counting
 * against a run. Throttling (AWS's documented throttling codes, Kubernetes 429), server errors (5xx) and
 * timeouts or dropped connections are; everything else (access denied, a malformed bundle, a bug) is not.
 * The error is looked at along its `cause` chain, since the adapters wrap SDK errors with context.
 */

// Throttling error codes the AWS SDKs retry as throttling (smithy's THROTTLING_ERROR_CODES), and S3's SlowDown.
const THROTTLING_CODES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
// Transient server-side and network codes (smithy's TRANSIENT_ERROR_CODES and NODEJS_TIMEOUT_ERROR_CODES).
const TRANSIENT_CODES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function isTransientError(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = error; typeof e === 'object' && e !== null && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const fields = e as {
      name?: unknown;
      code?: unknown;
      Code?: unknown;
      statusCode?: unknown;
      $metadata?: { httpStatusCode?: unknown };
      $retryable?: unknown;
    };
    for (const code of [fields.code, fields.Code, fields.name]) {
      if (typeof code === 'string' && (THROTTLING_CODES.has(code) || TRANSIENT_CODES.has(code))) return true;
    }
    const status =
      typeof fields.$metadata?.httpStatusCode === 'number'
        ? fields.$metadata.httpStatusCode
        : typeof fields.statusCode === 'number'
          ? fields.statusCode
          : undefined;
    if (status !== undefined && (status === 429 || status >= 500)) return true;
    if (fields.$retryable !== undefined && fields.$retryable !== null) return true;
    if (e instanceof AggregateError && e.errors.length > 0 && e.errors.every((inner) => isTransientError(inner))) return true;
  }
  return false;
}
