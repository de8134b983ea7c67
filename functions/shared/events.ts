import type { z } from 'zod';
import { BadInputError } from '../../lib/shared/errors.ts';
import { issuesText } from '../../lib/shared/zod-issues.ts';

/** An event that does not have the shape its trigger promises; the message names the field, not its value. */
export class InvalidEventError extends BadInputError {
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
  return issuesText(error, max);
}
