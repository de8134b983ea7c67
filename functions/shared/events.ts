import { randomBytes } from 'node:crypto';
import type { z } from 'zod';

/** An event that does not have the shape its trigger promises; the message names the field, not its value. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** Parses an event with its schema; throws InvalidEventError naming the first field at fault. */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  throw new InvalidEventError(`the ${what} is malformed: ${describeIssues(parsed.error)}`);
}

/** The first issues of a zod error as `path: message`, for messages that must not echo input. */
export function describeIssues(error: z.ZodError, max = 3): string {
  return error.issues
    .slice(0, max)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/** `20260301T060000Z`: a time as it starts a run id. */
export function compactTime(time: Date): string {
  return time.toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** A run id for an audit started now by `trigger`, unique by a random suffix. */
export function newRunId(now: Date, trigger: string): string {
  return `${compactTime(now)}-${trigger}-${randomBytes(3).toString('hex')}`;
}
