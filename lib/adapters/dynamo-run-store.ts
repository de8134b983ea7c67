import { randomUUID } from 'node:crypto';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type BatchWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  AuditRunSchema,
  type AuditRun,
  type FinalizationClaim,
  type NewRun,
  type RunRegistry,
  type RunStatus,
  type RunSummary,
} from '../ports/run-registry.ts';
import { AwsCallError } from '../shared/errors.ts';
import { errorCode, messageOf } from '../shared/error-code.ts';
import { firstIssueText } from '../shared/zod-issues.ts';
import { canonicalTime, commandKey, decodeCursor, LISTED, OPEN, RUN_TABLE, runKey } from './dynamo-run-table.ts';
import {
  apiCallsUpdate,
  claimUpdate,
  completeUpdate,
  failUpdate,
  firstApiCallsUpdate,
  markCollectingUpdate,
  namespacesUpdate,
  progressUpdate,
  releaseUpdate,
} from './dynamo-run-transitions.ts';

/** The table's layout lives in dynamo-run-table.ts; importers of the registry also find it here. */
export { RUN_TABLE, runTableDefinition } from './dynamo-run-table.ts';

export interface DynamoRunRegistryOptions {
  tableName: string;
  /** How long items are kept before DynamoDB's TTL removes them (default 400 days: a year of reports and some). */
  retentionDays?: number;
  client?: DynamoDBClient;
  clientConfig?: DynamoDBClientConfig;
  /** Retries of unprocessed batch items (default 5), with this first delay (default 100 ms). */
  batchRetry?: { attempts?: number; initialDelayMs?: number };
  sleep?: (ms: number) => Promise<void>;
}

const BATCH_SIZE = 25;
const CommandItemSchema = z.object({ runId: z.string().min(1) });
const UpdatedAttemptsSchema = z.object({ attempts: z.number().int().positive(), claims: z.number().int().positive() });

/** The run registry in DynamoDB; every state change is a conditional write, so no run is finalized twice. */
export class DynamoRunRegistry implements RunRegistry {
  readonly tableName: string;
  readonly #db: DynamoDBDocumentClient;
  readonly #raw: DynamoDBClient;
  readonly #ownsClient: boolean;
  readonly #retentionSeconds: number;
  readonly #options: DynamoRunRegistryOptions;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: DynamoRunRegistryOptions) {
    if (!options.tableName) throw new Error('DynamoRunRegistry: no table name');
    this.tableName = options.tableName;
    this.#options = options;
    this.#ownsClient = options.client === undefined;
    this.#raw = options.client ?? new DynamoDBClient({ retryMode: 'adaptive', maxAttempts: 5, ...options.clientConfig });
    this.#db = DynamoDBDocumentClient.from(this.#raw, { marshallOptions: { removeUndefinedValues: true } });
    this.#retentionSeconds = Math.round((options.retentionDays ?? 400) * 86_400);
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Closes the client's connections (only when the registry made the client). */
  destroy(): void {
    if (this.#ownsClient) this.#raw.destroy();
  }

  async create(run: NewRun): Promise<boolean> {
    const item = {
      [RUN_TABLE.partitionKey]: runKey(run.runId),
      runId: run.runId,
      status: 'SENDING' satisfies RunStatus,
      trigger: run.trigger,
      startedAt: run.startedAt,
      [RUN_TABLE.overdueIndexSortKey]: canonicalTime(run.deadline, 'deadline'),
      [RUN_TABLE.overdueIndexPartitionKey]: OPEN,
      [RUN_TABLE.startIndexPartitionKey]: LISTED,
      [RUN_TABLE.startIndexSortKey]: `${canonicalTime(run.startedAt, 'startedAt')}#${run.runId}`,
      commandIds: [],
      expectedCount: 0,
      collectedCount: 0,
      attempts: 0,
      location: run.location,
      [RUN_TABLE.ttlAttribute]: this.#expiresAt(run.startedAt),
    };
    return this.#conditional('PutItem', run.runId, () =>
      this.#db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': RUN_TABLE.partitionKey },
        }),
      ),
    );
  }

  async get(runId: string): Promise<AuditRun | undefined> {
    const answer = await this.#call('GetItem', `run ${runId}`, () =>
      this.#db.send(new GetCommand({ TableName: this.tableName, Key: { [RUN_TABLE.partitionKey]: runKey(runId) }, ConsistentRead: true })),
    );
    return answer.Item ? this.#parseRun(answer.Item, runId) : undefined;
  }

  async findRunByCommand(commandId: string): Promise<string | undefined> {
    const answer = await this.#call('GetItem', `command ${commandId}`, () =>
      this.#db.send(new GetCommand({ TableName: this.tableName, Key: { [RUN_TABLE.partitionKey]: commandKey(commandId) } })),
    );
    if (!answer.Item) return undefined;
    const parsed = CommandItemSchema.safeParse(answer.Item);
    if (!parsed.success) throw new Error(`table ${this.tableName}: the item of command ${commandId} names no run`);
    return parsed.data.runId;
  }

  async markCollecting(
    runId: string,
    sent: { commandIds: string[]; expectedCount: number; collectedCount: number; deadline?: string },
  ): Promise<boolean> {
    const run = await this.get(runId);
    if (!run) return false;
    // The mapping first: an event for a command must find its run as soon as the run is COLLECTING.
    const expiresAt = this.#expiresAt(run.startedAt);
    await this.#batchPut(
      sent.commandIds.map((commandId) => ({ [RUN_TABLE.partitionKey]: commandKey(commandId), runId, [RUN_TABLE.ttlAttribute]: expiresAt })),
      `run ${runId}`,
    );
    return this.#conditionalUpdate(runId, markCollectingUpdate(runId, sent));
  }

  async recordProgress(runId: string, collectedCount: number): Promise<void> {
    await this.#conditionalUpdate(runId, progressUpdate(runId, collectedCount));
  }

  async claimFinalization(runId: string, now: Date, leaseUntil: Date): Promise<FinalizationClaim | undefined> {
    const token = randomUUID();
    let attempts: unknown;
    const claimed = await this.#conditional('UpdateItem', runId, async () => {
      const answer = await this.#db.send(new UpdateCommand({ TableName: this.tableName, ...claimUpdate(runId, now, leaseUntil, token) }));
      attempts = answer.Attributes;
    });
    if (!claimed) return undefined;
    const parsed = UpdatedAttemptsSchema.safeParse(attempts);
    if (!parsed.success) throw new Error(`table ${this.tableName}: claiming run ${runId} returned no attempt count`);
    return { token, attempt: parsed.data.attempts, claim: parsed.data.claims };
  }

  async releaseFinalization(runId: string, claim: FinalizationClaim, error: string, options: { transient?: boolean } = {}): Promise<void> {
    await this.#conditionalUpdate(runId, releaseUpdate(runId, claim, error, options));
  }

  async addApiCalls(runId: string, calls: Readonly<Record<string, number>>): Promise<void> {
    if (Object.keys(calls).length === 0) return;
    // Raised in place once the run has counts; the first ones create the map. Of two first additions at once, the
    // one that finds the map made raises it on its second round. A run that is gone takes nothing.
    for (let round = 0; round < 2; round++) {
      if (await this.#conditionalUpdate(runId, apiCallsUpdate(runId, calls))) return;
      if (await this.#conditionalUpdate(runId, firstApiCallsUpdate(runId, calls))) return;
    }
  }

  async recordNamespaces(runId: string, namespaces: readonly string[]): Promise<void> {
    if (namespaces.length === 0) return;
    await this.#call('UpdateItem', `run ${runId}`, () =>
      this.#db.send(new UpdateCommand({ TableName: this.tableName, ...namespacesUpdate(runId, namespaces) })),
    );
  }

  async complete(
    runId: string,
    claim: FinalizationClaim,
    result: { finishedAt: string; collectedCount: number; summary: RunSummary },
  ): Promise<boolean> {
    return this.#conditionalUpdate(runId, completeUpdate(runId, claim, result));
  }

  async fail(
    runId: string,
    failure: { error: string; finishedAt: string },
    from: readonly RunStatus[],
    claim?: FinalizationClaim,
  ): Promise<boolean> {
    if (from.length === 0) return false;
    return this.#conditionalUpdate(runId, failUpdate(runId, failure, from, claim));
  }

  async listOverdue(now: Date, limit: number): Promise<AuditRun[]> {
    const runs: AuditRun[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#call('Query', `index ${RUN_TABLE.overdueIndex}`, () =>
        this.#db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: RUN_TABLE.overdueIndex,
            KeyConditionExpression: '#open = :open AND #deadline <= :now',
            ExpressionAttributeNames: { '#open': RUN_TABLE.overdueIndexPartitionKey, '#deadline': RUN_TABLE.overdueIndexSortKey },
            ExpressionAttributeValues: { ':open': OPEN, ':now': now.toISOString() },
            Limit: limit - runs.length,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) runs.push(this.#parseRun(item, String(item.runId ?? '?')));
      start = page.LastEvaluatedKey;
    } while (start && runs.length < limit);
    return runs;
  }

  async list(page: { limit: number; cursor?: string }): Promise<{ runs: AuditRun[]; next?: string }> {
    const start = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const answer = await this.#call('Query', `index ${RUN_TABLE.startIndex}`, () =>
      this.#db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: RUN_TABLE.startIndex,
          KeyConditionExpression: '#list = :list',
          ExpressionAttributeNames: { '#list': RUN_TABLE.startIndexPartitionKey },
          ExpressionAttributeValues: { ':list': LISTED },
          ScanIndexForward: false,
          Limit: page.limit,
          ExclusiveStartKey: start,
        }),
      ),
    );
    const runs = (answer.Items ?? []).map((item) => this.#parseRun(item, String(item.runId ?? '?')));
    const last = answer.LastEvaluatedKey;
    return { runs, ...(last ? { next: Buffer.from(JSON.stringify(last)).toString('base64url') } : {}) };
  }

  // ------------------------------------------------------------ plumbing

  #parseRun(item: Record<string, unknown>, runId: string): AuditRun {
    const parsed = AuditRunSchema.safeParse(item);
    if (!parsed.success) {
      throw new Error(`table ${this.tableName}: the item of run ${runId} is malformed: ${firstIssueText(parsed.error)}`);
    }
    return parsed.data;
  }

  #expiresAt(startedAt: string): number {
    return Math.floor(Date.parse(startedAt) / 1000) + this.#retentionSeconds;
  }

  async #batchPut(items: Array<Record<string, unknown>>, context: string): Promise<void> {
    const retry = this.#options.batchRetry ?? {};
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      let requests: BatchWriteCommandInput['RequestItems'] = {
        [this.tableName]: items.slice(i, i + BATCH_SIZE).map((Item) => ({ PutRequest: { Item } })),
      };
      for (let attempt = 1; ; attempt++) {
        const answer = await this.#call('BatchWriteItem', context, () => this.#db.send(new BatchWriteCommand({ RequestItems: requests })));
        const left = answer.UnprocessedItems?.[this.tableName] ?? [];
        if (left.length === 0) break;
        if (attempt >= (retry.attempts ?? 5))
          throw new AwsCallError(
            'DynamoDB',
            'BatchWriteItem',
            'UnprocessedItems',
            `${left.length} items left unprocessed`,
            `table ${this.tableName}, ${context}`,
            undefined,
          );
        requests = { [this.tableName]: left };
        await this.#sleep((retry.initialDelayMs ?? 100) * 2 ** (attempt - 1));
      }
    }
  }

  /** One of the run's state changes (dynamo-run-transitions.ts): true when it was applied, false when its condition did not hold. */
  #conditionalUpdate(runId: string, update: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    return this.#conditional('UpdateItem', runId, () => this.#db.send(new UpdateCommand({ TableName: this.tableName, ...update })));
  }

  /** Runs a conditional write: true when it was applied, false when its condition did not hold. */
  async #conditional(operation: string, runId: string, run: () => Promise<unknown>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (error) {
      if (errorCode(error) === 'ConditionalCheckFailedException') return false;
      throw this.#error(operation, `run ${runId}`, error);
    }
  }

  async #call<T>(operation: string, context: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.#error(operation, context, error);
    }
  }

  #error(operation: string, context: string, error: unknown): AwsCallError {
    return new AwsCallError('DynamoDB', operation, errorCode(error), messageOf(error), `table ${this.tableName}, ${context}`, error);
  }
}
