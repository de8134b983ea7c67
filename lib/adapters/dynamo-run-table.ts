import { z } from 'zod';
import { RunCursorError } from '../ports/run-registry.ts';

/**
 * Audit runs in one DynamoDB table (on-demand capacity):
 * - `pk = run#<runId>`: the run and its status; `openKey = "OPEN"` and `deadline` while the run is not
 *   DONE or FAILED, so the sparse index `overdue` lists exactly the open runs, by deadline;
 * - `pk = command#<commandId>`: the run a command was sent for.
 * Every item carries `expiresAt` (epoch seconds), the table's TTL attribute.
 */
export const RUN_TABLE = {
  partitionKey: 'pk',
  overdueIndex: 'overdue',
  overdueIndexPartitionKey: 'openKey',
  overdueIndexSortKey: 'deadline',
  /** Every run carries `listKey = "RUN"` and `started = <startedAt>#<runId>`: the index `byStart` lists them newest first. */
  startIndex: 'byStart',
  startIndexPartitionKey: 'listKey',
  startIndexSortKey: 'started',
  ttlAttribute: 'expiresAt',
} as const;

/** The table as CreateTable takes it (and as infra/resources declares it), for tests and local use. */
export function runTableDefinition(tableName: string): {
  TableName: string;
  BillingMode: 'PAY_PER_REQUEST';
  AttributeDefinitions: Array<{ AttributeName: string; AttributeType: 'S' }>;
  KeySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
  GlobalSecondaryIndexes: Array<{
    IndexName: string;
    KeySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
    Projection: { ProjectionType: 'ALL' };
  }>;
} {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: RUN_TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: RUN_TABLE.overdueIndexPartitionKey, AttributeType: 'S' },
      { AttributeName: RUN_TABLE.overdueIndexSortKey, AttributeType: 'S' },
      { AttributeName: RUN_TABLE.startIndexPartitionKey, AttributeType: 'S' },
      { AttributeName: RUN_TABLE.startIndexSortKey, AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: RUN_TABLE.partitionKey, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: RUN_TABLE.overdueIndex,
        KeySchema: [
          { AttributeName: RUN_TABLE.overdueIndexPartitionKey, KeyType: 'HASH' },
          { AttributeName: RUN_TABLE.overdueIndexSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: RUN_TABLE.startIndex,
        KeySchema: [
          { AttributeName: RUN_TABLE.startIndexPartitionKey, KeyType: 'HASH' },
          { AttributeName: RUN_TABLE.startIndexSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

export const OPEN = 'OPEN';
export const LISTED = 'RUN';
/** A page cursor: the index key of the last run of the page, as DynamoDB's LastEvaluatedKey gives it. */
const CursorSchema = z.strictObject({ pk: z.string().startsWith('run#'), listKey: z.literal(LISTED), started: z.string().min(1).max(300) });

export function decodeCursor(cursor: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new RunCursorError('the cursor is not one this API handed out');
  }
  const parsed = CursorSchema.safeParse(raw);
  if (!parsed.success) throw new RunCursorError('the cursor is not one this API handed out');
  return parsed.data;
}

export function runKey(runId: string): string {
  return `run#${runId}`;
}

export function commandKey(commandId: string): string {
  return `command#${commandId}`;
}

/** ISO time in one fixed form, so that the index compares deadlines as strings correctly. */
export function canonicalTime(value: string, what: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`not a time for ${what}: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}
