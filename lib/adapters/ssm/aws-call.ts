import type { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { z } from 'zod';
import type { RetryOptions } from './types.ts';
import { AwsCallError, S3CallError, SsmCallError } from '../../shared/errors.ts';
import { errorCode } from '../../shared/error-code.ts';
import { issuesText } from '../../shared/zod-issues.ts';

export { AwsCallError, S3CallError, SsmCallError };

const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNREFUSED',
  'EAI_AGAIN',
]);

export type AwsService = 'SSM' | 'S3';

/**
 * Makes AWS calls with retries of throttled, 5xx and timed-out answers on top of the SDK's own, turns a
 * failure into an SsmCallError / S3CallError, and counts calls and HTTP attempts per operation.
 */
export class AwsCaller {
  readonly #retry: RetryOptions;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #calls: Record<string, number> = {};
  readonly #attempts: Record<string, number> = {};

  constructor(retry: RetryOptions, sleep: (ms: number) => Promise<void>, random: () => number) {
    this.#retry = retry;
    this.#sleep = sleep;
    this.#random = random;
  }

  async call<T>(service: AwsService, operation: string, run: () => Promise<T>, context: string | undefined): Promise<T> {
    const attempts = this.#retry.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        const code = errorCode(err);
        const status = httpStatus(err);
        const retryable = RETRYABLE_CODES.has(code) || (status !== undefined && status >= 500);
        if (retryable && attempt < attempts) {
          await this.#sleep(this.jitter((this.#retry.initialDelayMs ?? 1_000) * 2 ** (attempt - 1)));
          continue;
        }
        const message = err instanceof Error ? err.message : String(err);
        throw service === 'SSM'
          ? new SsmCallError(operation, code, message, context, err)
          : new S3CallError(operation, code, message, context, err);
      }
    }
  }

  /** Between half and all of `ms`, so that many waiters do not wake together. */
  jitter(ms: number): number {
    return ms / 2 + (this.#random() * ms) / 2;
  }

  /** API calls made so far per service and operation, e.g. {'SSM.SendCommand': 3, 'S3.GetObject': 120}. */
  callCounts(): Record<string, number> {
    return { ...this.#calls };
  }

  /** HTTP requests made so far per service and operation, SDK retries included. */
  httpRequestCounts(): Record<string, number> {
    return { ...this.#attempts };
  }

  /** Counts every call of the client, and every HTTP attempt of it, by operation. */
  countCalls(client: SSMClient | S3Client, service: AwsService): void {
    const bump = (into: Record<string, number>, commandName: string | undefined): void => {
      const key = `${service}.${(commandName ?? 'Unknown').replace(/Command$/, '')}`;
      into[key] = (into[key] ?? 0) + 1;
    };
    const stack = client.middlewareStack as unknown as MiddlewareAdder;
    stack.add(
      (next, context) => async (args) => {
        bump(this.#calls, context.commandName);
        return next(args);
      },
      { step: 'initialize', name: 'fleetAuditCallCounter' },
    );
    // After the retry middleware, so each HTTP attempt counts.
    stack.add(
      (next, context) => async (args) => {
        bump(this.#attempts, context.commandName);
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'fleetAuditAttemptCounter' },
    );
  }
}

type Handler = (args: unknown) => Promise<unknown>;
interface MiddlewareAdder {
  add(
    middleware: (next: Handler, context: { commandName?: string }) => Handler,
    options: { step: string; name: string; priority?: string },
  ): void;
}

/** Whether an error is a failed AWS call with this code. */
export function isAwsError(err: unknown, code: string): err is AwsCallError {
  return err instanceof AwsCallError && err.code === code;
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status = (err as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Dates become ISO strings and SDK metadata goes, so the evidence holds plain JSON. */
export function jsonify(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const { $metadata: _metadata, ...rest } = value as Record<string, unknown>;
  return JSON.parse(JSON.stringify(Array.isArray(value) ? value : rest));
}

/** An AWS answer through its schema; a surprise names the operation and the fields. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`unexpected ${what} from AWS: ${issuesText(parsed.error)}`);
  return parsed.data;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
