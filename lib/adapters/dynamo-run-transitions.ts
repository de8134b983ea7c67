import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { FinalizationClaim, RunStatus, RunSummary } from '../ports/run-registry.ts';
import { canonicalTime, RUN_TABLE, runKey } from './dynamo-run-table.ts';

/**
 * The conditional updates that move a run from state to state (SENDING → COLLECTING → ANALYZING → DONE or
 * FAILED, and back to COLLECTING when a finalization gives up its claim), as UpdateItem inputs. Each names the
 * states it may start from in its condition, so that a write that lost a race changes nothing.
 */

/** Errors kept in the run's item are cut to this length. */
const ERROR_LIMIT = 2_000;

type RunUpdate = Omit<UpdateCommandInput, 'TableName'>;

function keyOf(runId: string): RunUpdate['Key'] {
  return { [RUN_TABLE.partitionKey]: runKey(runId) };
}

/** SENDING → COLLECTING, with the commands sent, what they reach, and (when none went out) the deadline moved. */
export function markCollectingUpdate(
  runId: string,
  sent: { commandIds: string[]; expectedCount: number; collectedCount: number; deadline?: string },
): RunUpdate {
  return {
    Key: keyOf(runId),
    UpdateExpression: `SET #status = :collecting, commandIds = :commandIds, expectedCount = :expected, collectedCount = :collected${sent.deadline ? ', #deadline = :deadline' : ''}`,
    ConditionExpression: '#status = :sending',
    ExpressionAttributeNames: { '#status': 'status', ...(sent.deadline ? { '#deadline': RUN_TABLE.overdueIndexSortKey } : {}) },
    ExpressionAttributeValues: {
      ':collecting': 'COLLECTING',
      ':sending': 'SENDING',
      ':commandIds': sent.commandIds,
      ':expected': sent.expectedCount,
      ':collected': sent.collectedCount,
      ...(sent.deadline ? { ':deadline': canonicalTime(sent.deadline, 'deadline') } : {}),
    },
  };
}

/** The count of invocations collected, only ever raised. */
export function progressUpdate(runId: string, collectedCount: number): RunUpdate {
  return {
    Key: keyOf(runId),
    UpdateExpression: 'SET collectedCount = :n',
    ConditionExpression: 'attribute_exists(#pk) AND collectedCount < :n',
    ExpressionAttributeNames: { '#pk': RUN_TABLE.partitionKey },
    ExpressionAttributeValues: { ':n': collectedCount },
  };
}

/** COLLECTING (or ANALYZING with its lease run out) → ANALYZING under a new claim, counting the attempt. */
export function claimUpdate(runId: string, now: Date, leaseUntil: Date, token: string): RunUpdate {
  return {
    Key: keyOf(runId),
    UpdateExpression: 'SET #status = :analyzing, leaseUntil = :lease, claimToken = :token ADD attempts :one, claims :one',
    ConditionExpression: '#status = :collecting OR (#status = :analyzing AND leaseUntil < :now)',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: {
      ':analyzing': 'ANALYZING',
      ':collecting': 'COLLECTING',
      ':lease': leaseUntil.toISOString(),
      ':now': now.toISOString(),
      ':token': token,
      ':one': 1,
    },
    ReturnValues: 'UPDATED_NEW',
  };
}

/** ANALYZING → COLLECTING by the claim's holder, with the error kept; a transient failure gives its attempt back. */
export function releaseUpdate(runId: string, claim: FinalizationClaim, error: string, options: { transient?: boolean }): RunUpdate {
  const refund = options.transient === true;
  return {
    Key: keyOf(runId),
    UpdateExpression: `SET #status = :collecting, #error = :error REMOVE leaseUntil, claimToken${refund ? ' ADD attempts :minusOne' : ''}`,
    ConditionExpression: '#status = :analyzing AND claimToken = :token',
    ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
    ExpressionAttributeValues: {
      ':collecting': 'COLLECTING',
      ':analyzing': 'ANALYZING',
      ':token': claim.token,
      ':error': clip(error),
      ...(refund ? { ':minusOne': -1 } : {}),
    },
  };
}

/** ADD to a string set: idempotent, and concurrent collectors never lose each other's namespaces. */
export function namespacesUpdate(runId: string, namespaces: readonly string[]): RunUpdate {
  return {
    Key: keyOf(runId),
    UpdateExpression: 'ADD namespaces :ns',
    ConditionExpression: 'attribute_exists(#pk)',
    ExpressionAttributeNames: { '#pk': RUN_TABLE.partitionKey },
    ExpressionAttributeValues: { ':ns': new Set(namespaces) },
  };
}

/**
 * Raises the run's count of each operation in place (`SET apiCalls.#op = if_not_exists(…, 0) + :n`), so that
 * concurrent additions all count; applies only once the run has its map of counts (firstApiCallsUpdate).
 */
export function apiCallsUpdate(runId: string, calls: Readonly<Record<string, number>>): RunUpdate {
  const entries = Object.entries(calls);
  return {
    Key: keyOf(runId),
    UpdateExpression: `SET ${entries.map((_, i) => `#calls.#op${i} = if_not_exists(#calls.#op${i}, :zero) + :n${i}`).join(', ')}`,
    ConditionExpression: 'attribute_exists(#calls)',
    ExpressionAttributeNames: { '#calls': 'apiCalls', ...Object.fromEntries(entries.map(([op], i) => [`#op${i}`, op])) },
    ExpressionAttributeValues: { ':zero': 0, ...Object.fromEntries(entries.map(([, n], i) => [`:n${i}`, n])) },
  };
}

/** The run's first counts of API calls, as its map of counts: only while it has none. */
export function firstApiCallsUpdate(runId: string, calls: Readonly<Record<string, number>>): RunUpdate {
  return {
    Key: keyOf(runId),
    UpdateExpression: 'SET #calls = :calls',
    ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#calls)',
    ExpressionAttributeNames: { '#pk': RUN_TABLE.partitionKey, '#calls': 'apiCalls' },
    ExpressionAttributeValues: { ':calls': { ...calls } },
  };
}

/** ANALYZING → DONE by the claim's holder; the run leaves the overdue index. */
export function completeUpdate(
  runId: string,
  claim: FinalizationClaim,
  result: { finishedAt: string; collectedCount: number; summary: RunSummary },
): RunUpdate {
  return {
    Key: keyOf(runId),
    UpdateExpression:
      'SET #status = :done, finishedAt = :finishedAt, collectedCount = :collected, summary = :summary REMOVE #open, leaseUntil, claimToken, #error',
    ConditionExpression: '#status = :analyzing AND claimToken = :token',
    ExpressionAttributeNames: { '#status': 'status', '#open': RUN_TABLE.overdueIndexPartitionKey, '#error': 'error' },
    ExpressionAttributeValues: {
      ':done': 'DONE',
      ':analyzing': 'ANALYZING',
      ':token': claim.token,
      ':finishedAt': result.finishedAt,
      ':collected': result.collectedCount,
      ':summary': result.summary,
    },
  };
}

/** One of `from` → FAILED (by the claim's holder when a claim is given); the run leaves the overdue index. */
export function failUpdate(
  runId: string,
  failure: { error: string; finishedAt: string },
  from: readonly RunStatus[],
  claim?: FinalizationClaim,
): RunUpdate {
  const states = Object.fromEntries(from.map((status, i) => [`:from${i}`, status]));
  return {
    Key: keyOf(runId),
    UpdateExpression: 'SET #status = :failed, #error = :error, finishedAt = :finishedAt REMOVE #open, leaseUntil, claimToken',
    ConditionExpression: `#status IN (${Object.keys(states).join(', ')})${claim ? ' AND claimToken = :token' : ''}`,
    ExpressionAttributeNames: { '#status': 'status', '#open': RUN_TABLE.overdueIndexPartitionKey, '#error': 'error' },
    ExpressionAttributeValues: {
      ':failed': 'FAILED',
      ':error': clip(failure.error),
      ':finishedAt': failure.finishedAt,
      ...states,
      ...(claim ? { ':token': claim.token } : {}),
    },
  };
}

function clip(text: string): string {
  return text.length > ERROR_LIMIT ? `${text.slice(0, ERROR_LIMIT - 1)}…` : text;
}
