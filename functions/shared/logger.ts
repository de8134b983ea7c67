import { Logger } from '@aws-lambda-powertools/logger';

/**
 * What the handlers log through: Powertools' structured JSON logger in Lambda, a recorder in tests.
 * Handlers log ids, counts and outcomes only: never a VM's output, an event body or configuration values.
 */
export interface HandlerLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
  appendKeys(keys: Record<string, unknown>): void;
  resetKeys(): void;
}

/** The Lambda context fields the handlers use. */
export interface InvocationContext {
  awsRequestId: string;
}

/** The structured logger of the functions (service `fleet-audit`; level from POWERTOOLS_LOG_LEVEL). */
export function createLogger(): HandlerLogger {
  const logger = new Logger({ serviceName: 'fleet-audit' });
  const line = (level: 'info' | 'warn' | 'error') => (message: string, extra?: Record<string, unknown>) =>
    extra ? logger[level](message, extra) : logger[level](message);
  return {
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    appendKeys: (keys) => logger.appendKeys(keys),
    resetKeys: () => logger.resetKeys(),
  };
}

/** Error fields for a log line: the name and message (they name the run, object or call), not the stack's locals. */
export function errorFields(error: unknown): Record<string, unknown> {
  return error instanceof Error ? { errorName: error.name, errorMessage: error.message } : { errorMessage: String(error) };
}
