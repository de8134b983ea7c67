/**
 * The failures this tool reports on purpose, by kind. Each keeps what it wraps as `cause`, so a log shows
 * the AWS or file-system error under the sentence that says what was being done.
 */
export class FleetAuditError extends Error {
  override name = 'FleetAuditError';
}

/** A command line that cannot be run as given: the person typing it can fix it. */
export class UsageError extends FleetAuditError {
  override name = 'UsageError';
}

/** Settings that cannot work: a deployment parameter, an environment variable, a settings file. */
export class ConfigurationError extends FleetAuditError {
  override name = 'ConfigurationError';
}

/** Input from outside that is not what it must be: a stored file, an event, a request, a waivers file. */
export class BadInputError extends FleetAuditError {
  override name = 'BadInputError';
}

/** A call to AWS that failed, naming the service, the operation and AWS's error code. */
export class AwsCallError extends FleetAuditError {
  readonly service: string;
  readonly operation: string;
  readonly code: string;
  override name = 'AwsCallError';

  constructor(service: string, operation: string, code: string, message: string, context: string | undefined, cause: unknown) {
    super(`${operation} failed: ${code}${message ? `: ${message}` : ''}${context ? ` (${context})` : ''}`, { cause });
    this.service = service;
    this.operation = operation;
    this.code = code;
  }
}

/** A failed SSM call. */
export class SsmCallError extends AwsCallError {
  override name = 'SsmCallError';

  constructor(operation: string, code: string, message: string, context: string | undefined, cause: unknown) {
    super('SSM', operation, code, message, context, cause);
  }
}

/** A failed S3 call. */
export class S3CallError extends AwsCallError {
  override name = 'S3CallError';

  constructor(operation: string, code: string, message: string, context: string | undefined, cause: unknown) {
    super('S3', operation, code, message, context, cause);
  }
}
