import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  ListTagsForResourceCommand,
  SendCommandCommand,
  SSMClient,
  type InstanceInformationStringFilter,
  type SendCommandCommandInput,
  type SSMClientConfig,
  type Target,
} from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { InstanceInformationSchema, type InstanceInformation, type Inventory, type Invocation } from '../core/evidence-bundle.ts';
import type { FleetRunner } from '../ports/fleet-runner.ts';

/**
 * Runs the diagnostic script on the fleet through SSM Run Command: the inventory from
 * DescribeInstanceInformation, one SendCommand per ≤ 50 nodes (or one by tag), completion by polling
 * ListCommands / ListCommandInvocations, and each node's complete stdout from the evidence bucket.
 */

/** Which managed nodes the audit covers. */
export type SsmTarget =
  /** Nodes carrying tag `key` (with one of `values`; any value when absent). */
  | { kind: 'tag'; key: string; values?: string[] }
  /** An explicit list of node ids (EC2 `i-` and hybrid `mi-`). */
  | { kind: 'instanceIds'; instanceIds: string[] };

export interface PollOptions {
  /** First wait after sending (default 2,000 ms). */
  initialDelayMs?: number;
  /** Longest wait between two polls (default 20,000 ms). */
  maxDelayMs?: number;
  /** Growth of the wait per poll (default 1.5). */
  multiplier?: number;
}

export interface RetryOptions {
  attempts?: number;
  initialDelayMs?: number;
}

/** One round of waiting, reported before its calls are made. */
export interface PollEvent {
  round: number;
  pendingCommands: number;
  pendingInvocations: number;
}

export interface SsmFleetRunnerOptions {
  /** The AWS region; by default the SDK's chain (AWS_REGION, then the profile's configuration). */
  region?: string;
  /** Default: the SDK's default credential chain. */
  credentials?: SSMClientConfig['credentials'];
  /** Endpoint overrides (the simulator, VPC endpoints). */
  ssmEndpoint?: string;
  s3Endpoint?: string;
  /** The bucket's region when it differs from `region`. */
  s3Region?: string;
  forcePathStyle?: boolean;
  /** The evidence bucket the agent writes output to; without it the API copies (cut at 24,000 bytes) are used. */
  bucket?: string;
  /** The run's prefix in the bucket, e.g. `runs/<runId>/ssm-output`. */
  keyPrefix?: string;
  /** Names the run on the command (cut to SSM's 100 characters). */
  comment?: string;
  documentName: string;
  documentVersion?: string;
  /** The document parameter carrying the execution timeout; null when the document has none. */
  executionTimeoutParameter?: string | null;
  target: SsmTarget;
  /** For a tag target, send one command with Targets by tag instead of ≤ 50 instance ids a call (default true). */
  sendByTargets?: boolean;
  /** Attach tags of hybrid (`mi-`) nodes with ListTagsForResource, one call per node (default false). */
  listTags?: boolean;
  /** Default '50'. */
  maxConcurrency?: string;
  /** Delivery timeout, SendCommand TimeoutSeconds (default 600). */
  deliveryTimeoutSeconds?: number;
  /** Execution timeout handed to the document (default 600). */
  executionTimeoutSeconds?: number;
  /** How long to wait for invocations to end (default: both timeouts and two minutes). */
  waitTimeoutMs?: number;
  poll?: PollOptions;
  /** Retries of a NoSuchKey read: the agent uploads shortly after the invocation ends (default 5 attempts from 500 ms). */
  outputRetry?: RetryOptions;
  /** Retries of throttled, 5xx and timed-out calls on top of the SDK's own (default 4 attempts from 1,000 ms). */
  apiRetry?: RetryOptions;
  /** SDK attempts per call, adaptive retry mode (default 5). */
  maxAttempts?: number;
  requestTimeoutMs?: number;
  /** Concurrent S3 reads (default 8). */
  s3Concurrency?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** A float in [0, 1), for jitter. */
  random?: () => number;
  onPoll?: (event: PollEvent) => void;
}

/** A command sent to the fleet; `instanceIds` is undefined for a command targeted by tag. */
export interface SentCommand {
  commandId: string;
  instanceIds: string[] | undefined;
  requestedAt: Date;
}

export interface CollectResult {
  /** Instances handed over by this collection. */
  collected: string[];
  /** Invocations not yet terminal, with their current status. */
  pending: Array<{ commandId: string; instanceId: string; status: string; statusDetails: string | undefined }>;
}

/** A failed AWS call, naming the service, the operation and the AWS error code. */
export class AwsCallError extends Error {
  readonly service: string;
  readonly operation: string;
  readonly code: string;

  constructor(service: string, operation: string, code: string, message: string, context: string | undefined, cause: unknown) {
    super(`${operation} failed: ${code}${message ? `: ${message}` : ''}${context ? ` (${context})` : ''}`, { cause });
    this.name = 'AwsCallError';
    this.service = service;
    this.operation = operation;
    this.code = code;
  }
}

/** A failed SSM call. */
export class SsmCallError extends AwsCallError {
  constructor(operation: string, code: string, message: string, context: string | undefined, cause: unknown) {
    super('SSM', operation, code, message, context, cause);
    this.name = 'SsmCallError';
  }
}

/** A failed S3 call. */
export class S3CallError extends AwsCallError {
  constructor(operation: string, code: string, message: string, context: string | undefined, cause: unknown) {
    super('S3', operation, code, message, context, cause);
    this.name = 'S3CallError';
  }
}

const MAX_IDS_PER_COMMAND = 50;
const PAGE_SIZE = 50;
const COMMENT_LIMIT = 100;
/** Terminal invocation statuses and details as SSM reports them. */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
const TERMINAL_DETAILS: ReadonlySet<string> = new Set([
  'Success',
  'Failed',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
  'Cancelled',
]);
/** Details of invocations the agent never started, so there is no output to read. */
const NEVER_RAN_DETAILS: ReadonlySet<string> = new Set(['Undeliverable', 'DeliveryTimedOut', 'Terminated', 'InvalidPlatform', 'AccessDenied']);
const TERMINAL_COMMAND_STATUSES: ReadonlySet<string> = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
/** How the agent marks the plugin Output of ListCommandInvocations details (2,500 characters). */
const DETAILS_ERROR_SEPARATOR = '\n----------ERROR-------\n';
const DETAILS_OUTPUT_CUT = '---Output truncated---';
const DETAILS_ERROR_CUT = '---Error truncated----';
const DETAILS_OUTPUT_LIMIT = 2_500;
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

const PluginSchema = z.looseObject({
  Name: z.string().optional(),
  Status: z.string().optional(),
  StatusDetails: z.string().optional(),
  ResponseCode: z.number().int().optional(),
  ResponseStartDateTime: z.date().optional(),
  ResponseFinishDateTime: z.date().optional(),
  Output: z.string().optional(),
  StandardOutputUrl: z.string().optional(),
  StandardErrorUrl: z.string().optional(),
});

const ListedInvocationSchema = z.looseObject({
  CommandId: z.string().min(1),
  InstanceId: z.string().min(1),
  DocumentName: z.string().optional(),
  Comment: z.string().optional(),
  Status: z.string().optional(),
  StatusDetails: z.string().optional(),
  StandardOutputUrl: z.string().optional(),
  StandardErrorUrl: z.string().optional(),
  CommandPlugins: z.array(PluginSchema).optional(),
});
type ListedInvocation = z.infer<typeof ListedInvocationSchema>;

const CommandInvocationDetailSchema = z.looseObject({
  CommandId: z.string().optional(),
  InstanceId: z.string().optional(),
  DocumentName: z.string().optional(),
  PluginName: z.string().optional(),
  ResponseCode: z.number().int().optional(),
  ExecutionStartDateTime: z.string().optional(),
  ExecutionEndDateTime: z.string().optional(),
  Status: z.string().optional(),
  StatusDetails: z.string().optional(),
  StandardOutputContent: z.string().optional(),
  StandardOutputUrl: z.string().optional(),
  StandardErrorContent: z.string().optional(),
  StandardErrorUrl: z.string().optional(),
});

const ListedCommandSchema = z.looseObject({
  CommandId: z.string().min(1),
  Status: z.string().optional(),
  TargetCount: z.number().int().optional(),
  CompletedCount: z.number().int().optional(),
});
type ListedCommand = z.infer<typeof ListedCommandSchema>;

const SentCommandSchema = z.looseObject({
  CommandId: z.string().min(1),
  RequestedDateTime: z.date().optional(),
});

const TagListSchema = z.array(z.object({ Key: z.string(), Value: z.string() }));

interface CommandState {
  sent: SentCommand;
  /** Last status seen of each invocation not yet handed over (output fields dropped to keep memory flat). */
  lastSeen: Map<string, { Status: string | undefined; StatusDetails: string | undefined }>;
  /** Instances seen in this command's listings. */
  seen: Set<string>;
  /** Whether ListCommands called the command terminal. */
  terminal: boolean;
  /** How many invocations ListCommands says the command has. */
  targetCount: number | undefined;
  done: boolean;
}

type Deliver = (invocation: Invocation) => Promise<void>;

/** Runs the diagnostic script on the fleet through SSM Run Command, output read from S3. */
export class SsmFleetRunner implements FleetRunner {
  readonly #ssm: SSMClient;
  readonly #s3: S3Client;
  readonly #options: SsmFleetRunnerOptions;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #calls: Record<string, number> = {};
  readonly #attempts: Record<string, number> = {};
  /** Every instance handed over in this run: each gets exactly one invocation. */
  readonly #handedOver = new Set<string>();
  /** Explicitly targeted ids that DescribeInstanceInformation does not list. */
  #absentIds: string[] = [];
  #inventoryIds: Set<string> | undefined;

  constructor(options: SsmFleetRunnerOptions) {
    if (options.target.kind === 'instanceIds' && options.target.instanceIds.length === 0) throw new Error('SsmFleetRunner: the instanceIds target lists no instance');
    if (options.target.kind === 'tag' && options.target.values?.length === 0) throw new Error('SsmFleetRunner: the tag target lists no value');
    if (options.keyPrefix !== undefined && options.bucket === undefined) throw new Error('SsmFleetRunner: keyPrefix needs a bucket');
    this.#options = options;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    const common = {
      credentials: options.credentials,
      retryMode: 'adaptive',
      maxAttempts: options.maxAttempts ?? 5,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, connectionTimeout: 5_000 },
    } as const;
    this.#ssm = new SSMClient({ ...common, ...(options.region ? { region: options.region } : {}), ...(options.ssmEndpoint ? { endpoint: options.ssmEndpoint } : {}) });
    const s3Region = options.s3Region ?? options.region;
    this.#s3 = new S3Client({
      ...common,
      ...(s3Region ? { region: s3Region } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.s3Endpoint ? { endpoint: options.s3Endpoint } : {}),
    });
    this.#countCalls(this.#ssm, 'SSM');
    this.#countCalls(this.#s3, 'S3');
  }

  /** The region the SSM client resolved (the option, or the SDK's chain). */
  async region(): Promise<string> {
    return this.#options.region ?? (await this.#ssm.config.region());
  }

  /** API calls made so far per service and operation, e.g. {'SSM.SendCommand': 3, 'S3.GetObject': 120}. */
  callCounts(): Record<string, number> {
    return { ...this.#calls };
  }

  /** HTTP requests made so far per service and operation, SDK retries included. */
  httpRequestCounts(): Record<string, number> {
    return { ...this.#attempts };
  }

  /** Closes the SDK clients' connections. */
  destroy(): void {
    this.#ssm.destroy();
    this.#s3.destroy();
  }

  async listInstances(): Promise<Inventory> {
    const target = this.#options.target;
    let items: InstanceInformation[];
    if (target.kind === 'tag') {
      const filter: InstanceInformationStringFilter = target.values ? { Key: `tag:${target.key}`, Values: target.values } : { Key: 'tag-key', Values: [target.key] };
      items = await this.#describe([filter], `target tag ${target.key}`);
      // The filter proves the tag; its value is known when the target names only one.
      if (target.values?.length === 1) for (const item of items) item.Tags = [{ Key: target.key, Value: target.values[0]! }];
    } else {
      const wanted = [...new Set(target.instanceIds)];
      items = [];
      for (const chunk of chunks(wanted, MAX_IDS_PER_COMMAND)) items.push(...(await this.#describeIds(chunk)));
      const found = new Set(items.map((i) => i.InstanceId));
      this.#absentIds = wanted.filter((id) => !found.has(id));
    }
    if (this.#options.listTags) await this.#attachTags(items);
    this.#inventoryIds = new Set(items.map((i) => i.InstanceId));
    return { InstanceInformationList: items };
  }

  async runDiagnostics(instances: InstanceInformation[], onInvocation: (invocation: Invocation) => Promise<void>): Promise<void> {
    const sent = await this.sendDiagnostics(instances, onInvocation);
    await this.waitForCompletion(sent, onInvocation, instances.map((i) => i.InstanceId));
  }

  /**
   * Sends the diagnostic command to the instances (and, for an explicit list, records the listed ids that
   * SSM does not manage). Instances SendCommand rejects are handed over as Undeliverable records.
   */
  async sendDiagnostics(instances: InstanceInformation[], onInvocation: (invocation: Invocation) => Promise<void>): Promise<SentCommand[]> {
    const deliver = this.#serialized(onInvocation);
    for (const id of this.#absentIds) {
      await deliver(notSent(id, 'DescribeInstanceInformation does not list this node: it is not a managed node of SSM in this account and region, so no command was sent to it'));
    }
    this.#absentIds = [];
    const ids = [...new Set(instances.map((i) => i.InstanceId))].filter((id) => !this.#handedOver.has(id));
    if (ids.length === 0) return [];
    const target = this.#options.target;
    const wholeInventory = this.#inventoryIds !== undefined && ids.length === this.#inventoryIds.size && ids.every((id) => this.#inventoryIds!.has(id));
    if (target.kind === 'tag' && (this.#options.sendByTargets ?? true) && wholeInventory) {
      const targets: Target[] = [target.values ? { Key: `tag:${target.key}`, Values: target.values } : { Key: 'tag-key', Values: [target.key] }];
      return [await this.#sendCommand({ Targets: targets }, undefined, `targets tag ${target.key}`)];
    }
    const sent: SentCommand[] = [];
    for (const chunk of chunks(ids, MAX_IDS_PER_COMMAND)) sent.push(...(await this.#sendChunk(chunk, deliver)));
    return sent;
  }

  /**
   * Polls until every invocation of the commands is terminal or the wait times out, handing each over as
   * soon as it ends; afterwards the rest are handed over with their last status. `expected` names the
   * instances that must each end with one invocation (by default those the commands were sent to).
   */
  async waitForCompletion(sent: SentCommand[], onInvocation: (invocation: Invocation) => Promise<void>, expected?: string[]): Promise<void> {
    const deliver = this.#serialized(onInvocation);
    const states: CommandState[] = sent.map((s) => ({ sent: s, lastSeen: new Map(), seen: new Set(), terminal: false, targetCount: undefined, done: false }));
    const waitingFor = expected ?? sent.flatMap((s) => s.instanceIds ?? []);
    const deadline = this.#now() + this.#waitTimeoutMs();
    const poll = this.#options.poll ?? {};
    let delay = poll.initialDelayMs ?? 2_000;
    let round = 0;
    while (states.some((s) => !s.done) && this.#now() < deadline) {
      await this.#sleep(Math.min(this.#jitter(delay), Math.max(0, deadline - this.#now())));
      delay = Math.min(poll.maxDelayMs ?? 20_000, delay * (poll.multiplier ?? 1.5));
      const open = states.filter((s) => !s.done);
      this.#options.onPoll?.({
        round: ++round,
        pendingCommands: open.length,
        pendingInvocations: waitingFor.filter((id) => !this.#handedOver.has(id)).length,
      });
      const listed = await this.#listCommands(open);
      for (const state of open) {
        const command = listed.get(state.sent.commandId);
        state.terminal = command?.Status !== undefined && TERMINAL_COMMAND_STATUSES.has(command.Status);
        state.targetCount = command?.TargetCount ?? state.targetCount;
        // ListCommands says whether anything ended since the last look; a command it does not list yet is looked at anyway.
        if (command && !state.terminal && command.CompletedCount !== undefined && command.CompletedCount <= this.#handedOverOf(state)) continue;
        await this.#collectCommand(state, deliver, false);
        this.#settle(state);
      }
    }
    const unfinished = states.filter((s) => !s.done);
    for (const state of unfinished) await this.#collectCommand(state, deliver, true);
    for (const state of states) {
      for (const id of state.sent.instanceIds ?? []) {
        if (!this.#handedOver.has(id)) await deliver(neverListed(id, state.sent.commandId, unfinished.includes(state)));
      }
    }
    for (const id of expected ?? []) {
      if (this.#handedOver.has(id)) continue;
      const tagCommand = states.find((s) => s.sent.instanceIds === undefined);
      await deliver(
        tagCommand
          ? notTargeted(id, tagCommand.sent.commandId, tagCommand.terminal)
          : notSent(id, 'no command was sent to this node in this run'),
      );
    }
  }

  /**
   * Lists the invocations of the commands once and hands over every terminal one not in `skip`
   * (instance ids), complete output included; also the entry point when completion is signalled by events.
   */
  async collect(commandIds: string[], onInvocation: (invocation: Invocation) => Promise<void>, options: { skip?: ReadonlySet<string> } = {}): Promise<CollectResult> {
    const collected: string[] = [];
    const pending: CollectResult['pending'] = [];
    const deliver = this.#serialized(async (invocation) => {
      collected.push(invocation.InstanceId);
      await onInvocation(invocation);
    });
    for (const commandId of commandIds) {
      const state: CommandState = { sent: { commandId, instanceIds: undefined, requestedAt: new Date(0) }, lastSeen: new Map(), seen: new Set(), terminal: false, targetCount: undefined, done: false };
      await this.#collectCommand(state, deliver, false, options.skip);
      for (const [instanceId, last] of state.lastSeen) pending.push({ commandId, instanceId, status: last.Status ?? 'Pending', statusDetails: last.StatusDetails });
    }
    return { collected, pending };
  }

  // ------------------------------------------------------------ inventory

  async #describe(filters: InstanceInformationStringFilter[], context: string): Promise<InstanceInformation[]> {
    const items: InstanceInformation[] = [];
    let token: string | undefined;
    do {
      const page = await this.#call('SSM', 'DescribeInstanceInformation', () =>
        this.#ssm.send(new DescribeInstanceInformationCommand({ Filters: filters, MaxResults: PAGE_SIZE, NextToken: token })), context);
      for (const raw of page.InstanceInformationList ?? []) items.push(parseWith(InstanceInformationSchema, jsonify(raw), 'DescribeInstanceInformation item'));
      token = page.NextToken;
    } while (token);
    return items;
  }

  async #describeIds(ids: string[]): Promise<InstanceInformation[]> {
    try {
      return await this.#describe([{ Key: 'InstanceIds', Values: ids }], `${ids.length} instance ids from ${ids[0]}`);
    } catch (err) {
      // One unknown id can fail the whole filter: ask per id to learn which ones SSM does not manage.
      if (!(err instanceof AwsCallError) || err.code !== 'InvalidInstanceId') throw err;
      if (ids.length === 1) return [];
      const items: InstanceInformation[] = [];
      for (const id of ids) items.push(...(await this.#describeIds([id])));
      return items;
    }
  }

  async #attachTags(items: InstanceInformation[]): Promise<void> {
    // SSM keeps tags of hybrid nodes only; EC2 instances keep theirs in EC2.
    const hybrid = items.filter((i) => i.InstanceId.startsWith('mi-'));
    await pool(hybrid, 4, async (item) => {
      try {
        const answer = await this.#call('SSM', 'ListTagsForResource', () =>
          this.#ssm.send(new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: item.InstanceId })), `instance ${item.InstanceId}`);
        item.Tags = parseWith(TagListSchema, jsonify(answer.TagList ?? []), 'ListTagsForResource TagList');
      } catch (err) {
        if (!(err instanceof AwsCallError) || err.code !== 'InvalidResourceId') throw err;
      }
    });
  }

  // ------------------------------------------------------------ sending

  async #sendChunk(ids: string[], deliver: Deliver): Promise<SentCommand[]> {
    try {
      return [await this.#sendCommand({ InstanceIds: ids }, ids, `${ids.length} instances from ${ids[0]}`)];
    } catch (err) {
      // SendCommand refuses the whole call for one node it cannot reach; halve until that node is alone.
      if (!(err instanceof AwsCallError) || err.code !== 'InvalidInstanceId') throw err;
      if (ids.length === 1) {
        await deliver(notSent(ids[0]!, `SendCommand rejected this node: ${err.message}`));
        return [];
      }
      const half = Math.ceil(ids.length / 2);
      return [...(await this.#sendChunk(ids.slice(0, half), deliver)), ...(await this.#sendChunk(ids.slice(half), deliver))];
    }
  }

  async #sendCommand(targeting: Pick<SendCommandCommandInput, 'InstanceIds' | 'Targets'>, instanceIds: string[] | undefined, context: string): Promise<SentCommand> {
    const o = this.#options;
    const parameter = o.executionTimeoutParameter === undefined ? 'executionTimeout' : o.executionTimeoutParameter;
    const input: SendCommandCommandInput = {
      ...targeting,
      DocumentName: o.documentName,
      DocumentVersion: o.documentVersion,
      Parameters: parameter === null ? undefined : { [parameter]: [String(o.executionTimeoutSeconds ?? 600)] },
      TimeoutSeconds: o.deliveryTimeoutSeconds ?? 600,
      Comment: (o.comment ?? 'fleet-audit diagnostics').slice(0, COMMENT_LIMIT),
      // The default MaxErrors of 0 would stop the audit at the first failing node.
      MaxErrors: '100%',
      MaxConcurrency: o.maxConcurrency ?? '50',
      OutputS3BucketName: o.bucket,
      OutputS3KeyPrefix: o.bucket === undefined ? undefined : o.keyPrefix,
      OutputS3Region: o.bucket === undefined ? undefined : (o.s3Region ?? (await this.region())),
    };
    const answer = await this.#call('SSM', 'SendCommand', () => this.#ssm.send(new SendCommandCommand(input)), context);
    const command = parseWith(SentCommandSchema, answer.Command, 'SendCommand Command');
    return { commandId: command.CommandId, instanceIds, requestedAt: command.RequestedDateTime ?? new Date(this.#now()) };
  }

  // ------------------------------------------------------------ waiting and collecting

  #waitTimeoutMs(): number {
    const o = this.#options;
    return o.waitTimeoutMs ?? ((o.deliveryTimeoutSeconds ?? 600) + (o.executionTimeoutSeconds ?? 600) + 120) * 1000;
  }

  async #listCommands(open: CommandState[]): Promise<Map<string, ListedCommand>> {
    const wanted = new Set(open.map((s) => s.sent.commandId));
    const found = new Map<string, ListedCommand>();
    if (open.length === 1) {
      const page = await this.#call('SSM', 'ListCommands', () => this.#ssm.send(new ListCommandsCommand({ CommandId: open[0]!.sent.commandId })), `command ${open[0]!.sent.commandId}`);
      for (const raw of page.Commands ?? []) {
        const command = parseWith(ListedCommandSchema, raw, 'ListCommands item');
        found.set(command.CommandId, command);
      }
      return found;
    }
    // One listing of this run's commands (by time and document) instead of a call per command.
    const since = new Date(Math.min(...open.map((s) => s.sent.requestedAt.getTime())) - 1000).toISOString();
    let token: string | undefined;
    do {
      const page = await this.#call('SSM', 'ListCommands', () =>
        this.#ssm.send(new ListCommandsCommand({
          Filters: [{ key: 'InvokedAfter', value: since }, { key: 'DocumentName', value: this.#options.documentName }],
          MaxResults: PAGE_SIZE,
          NextToken: token,
        })), `commands since ${since}`);
      for (const raw of page.Commands ?? []) {
        const command = parseWith(ListedCommandSchema, raw, 'ListCommands item');
        if (wanted.has(command.CommandId)) found.set(command.CommandId, command);
      }
      token = found.size === wanted.size ? undefined : page.NextToken;
    } while (token);
    return found;
  }

  #handedOverOf(state: CommandState): number {
    let n = 0;
    for (const id of state.seen) if (this.#handedOver.has(id)) n++;
    return n;
  }

  #settle(state: CommandState): void {
    const ids = state.sent.instanceIds;
    if (ids !== undefined && ids.every((id) => this.#handedOver.has(id))) {
      state.done = true;
      return;
    }
    // A terminal command is done once its listing caught up with the count ListCommands gave (listings lag behind).
    const listedAll = state.targetCount === undefined ? state.seen.size > 0 : state.seen.size >= state.targetCount;
    state.done = state.terminal && listedAll && state.lastSeen.size === 0;
  }

  /** One listing of a command's invocations: terminal ones are read and handed over; `final` hands over the rest as they stand. */
  async #collectCommand(state: CommandState, deliver: Deliver, final: boolean, skip?: ReadonlySet<string>): Promise<void> {
    const commandId = state.sent.commandId;
    const details = this.#options.bucket !== undefined;
    let token: string | undefined;
    do {
      const page = await this.#call('SSM', 'ListCommandInvocations', () =>
        this.#ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: details, MaxResults: PAGE_SIZE, NextToken: token })), `command ${commandId}`);
      const ended: ListedInvocation[] = [];
      for (const raw of page.CommandInvocations ?? []) {
        const invocation = parseWith(ListedInvocationSchema, raw, 'ListCommandInvocations item');
        const id = invocation.InstanceId;
        state.seen.add(id);
        if (this.#handedOver.has(id) || skip?.has(id)) {
          state.lastSeen.delete(id);
          continue;
        }
        if (isTerminal(invocation.Status, invocation.StatusDetails)) {
          state.lastSeen.delete(id);
          ended.push(invocation);
        } else {
          state.lastSeen.set(id, { Status: invocation.Status, StatusDetails: invocation.StatusDetails });
        }
      }
      await pool(ended, this.#options.s3Concurrency ?? 8, async (invocation) => deliver(await this.#record(invocation)));
      token = page.NextToken;
    } while (token);
    if (final) {
      for (const [instanceId, last] of state.lastSeen) {
        await deliver({
          InstanceId: instanceId,
          CommandId: commandId,
          Status: last.Status ?? 'Pending',
          StatusDetails: last.StatusDetails ?? last.Status ?? 'Pending',
          ResponseCode: -1,
          StandardOutputContent: '',
          StandardErrorContent: `the wait for this invocation ended while it was ${last.StatusDetails ?? last.Status ?? 'Pending'}; SSM may still complete it`,
        });
      }
      state.lastSeen.clear();
    }
  }

  /** The GetCommandInvocation-shaped record of a terminal invocation, with its complete stdout. */
  async #record(listed: ListedInvocation): Promise<Invocation> {
    const plugin = listed.CommandPlugins?.[0];
    const context = `command ${listed.CommandId}, instance ${listed.InstanceId}`;
    const stdoutUrl = plugin?.StandardOutputUrl || listed.StandardOutputUrl || undefined;
    const stderrUrl = plugin?.StandardErrorUrl || listed.StandardErrorUrl || undefined;
    const base: Invocation = {
      InstanceId: listed.InstanceId,
      CommandId: listed.CommandId,
      DocumentName: listed.DocumentName,
      PluginName: plugin?.Name,
      Status: listed.Status ?? 'Failed',
      StatusDetails: listed.StatusDetails,
      ResponseCode: plugin?.ResponseCode ?? -1,
      ExecutionStartDateTime: plugin?.ResponseStartDateTime?.toISOString(),
      ExecutionEndDateTime: plugin?.ResponseFinishDateTime?.toISOString(),
      StandardOutputUrl: stdoutUrl,
      StandardErrorUrl: stderrUrl,
      StandardOutputContent: '',
      StandardErrorContent: '',
    };
    const detail = listed.StatusDetails ?? listed.Status ?? '';
    if (NEVER_RAN_DETAILS.has(detail)) return base;
    if (this.#options.bucket === undefined) {
      // Without a bucket the API copy is all there is: cut at 24,000 bytes with the agent's marker, kept as is.
      return (await this.#getInvocation(listed, context)) ?? base;
    }
    if (detail === 'Cancelled' && plugin?.ResponseStartDateTime === undefined) return base;
    // Without the plugin's Output nothing is known inline: both streams come from S3.
    const inline = plugin?.Output === undefined ? { stdout: '', stdoutComplete: false, stderr: '', stderrComplete: false } : splitDetailsOutput(plugin.Output);
    let stdout = inline.stdoutComplete ? inline.stdout : await this.#readOutput(listed, 'stdout', stdoutUrl, context);
    const stderr = inline.stderrComplete ? inline.stderr : ((await this.#readOutput(listed, 'stderr', stderrUrl, context)) ?? inline.stderr);
    if (stdout === undefined) {
      // No object after the retries (the upload failed or is late): fall back to the API copy, cut at 24,000 bytes.
      const api = await this.#getInvocation(listed, context);
      stdout = api?.StandardOutputContent ?? inline.stdout;
    }
    return { ...base, StandardOutputContent: stdout, StandardErrorContent: stderr };
  }

  async #getInvocation(listed: ListedInvocation, context: string): Promise<Invocation | undefined> {
    const retry = this.#options.outputRetry ?? {};
    const attempts = retry.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await this.#call('SSM', 'GetCommandInvocation', () =>
          this.#ssm.send(new GetCommandInvocationCommand({ CommandId: listed.CommandId, InstanceId: listed.InstanceId })), context);
        const got = parseWith(CommandInvocationDetailSchema, jsonify(answer), 'GetCommandInvocation');
        return {
          InstanceId: listed.InstanceId,
          CommandId: listed.CommandId,
          DocumentName: got.DocumentName ?? listed.DocumentName,
          PluginName: got.PluginName || undefined,
          Status: got.Status ?? listed.Status ?? 'Failed',
          StatusDetails: got.StatusDetails ?? listed.StatusDetails,
          ResponseCode: got.ResponseCode ?? -1,
          ExecutionStartDateTime: got.ExecutionStartDateTime || undefined,
          ExecutionEndDateTime: got.ExecutionEndDateTime || undefined,
          StandardOutputUrl: got.StandardOutputUrl || undefined,
          StandardErrorUrl: got.StandardErrorUrl || undefined,
          StandardOutputContent: got.StandardOutputContent ?? '',
          StandardErrorContent: got.StandardErrorContent ?? '',
        };
      } catch (err) {
        // Right after an invocation is listed, GetCommandInvocation may not know it yet.
        if (!(err instanceof AwsCallError) || err.code !== 'InvocationDoesNotExist') throw err;
        if (attempt >= attempts) return undefined;
        await this.#sleep(this.#jitter((retry.initialDelayMs ?? 500) * 2 ** (attempt - 1)));
      }
    }
  }

  /** Reads one output stream from S3; undefined when the object never appeared. */
  async #readOutput(listed: ListedInvocation, stream: 'stdout' | 'stderr', url: string | undefined, context: string): Promise<string | undefined> {
    const retry = this.#options.outputRetry ?? {};
    const attempts = retry.attempts ?? 5;
    let location = url ? parseS3Url(url) : undefined;
    for (let attempt = 1; ; attempt++) {
      location ??= await this.#findOutput(listed, stream, context);
      if (location) {
        const { bucket, key } = location;
        try {
          const answer = await this.#call('S3', 'GetObject', () => this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })), `s3://${bucket}/${key}, ${context}`);
          const text: unknown = await answer.Body?.transformToString('utf-8');
          return parseWith(z.string(), text ?? '', `s3://${bucket}/${key}`);
        } catch (err) {
          // The agent uploads the output shortly after the invocation ends.
          if (!(err instanceof AwsCallError) || err.code !== 'NoSuchKey') throw err;
        }
      }
      if (attempt >= attempts) return undefined;
      await this.#sleep(this.#jitter((retry.initialDelayMs ?? 500) * 2 ** (attempt - 1)));
    }
  }

  /** Finds an output object under the command's prefix when the API gave no URL. */
  async #findOutput(listed: ListedInvocation, stream: 'stdout' | 'stderr', context: string): Promise<{ bucket: string; key: string } | undefined> {
    const bucket = this.#options.bucket!;
    const prefix = [this.#options.keyPrefix ?? '', listed.CommandId, listed.InstanceId, ''].flatMap((p) => p.split('/')).filter((p) => p !== '').join('/') + '/';
    const answer = await this.#call('S3', 'ListObjectsV2', () => this.#s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 100 })), `s3://${bucket}/${prefix}, ${context}`);
    const key = (answer.Contents ?? []).map((c) => c.Key ?? '').find((k) => k.endsWith(`/${stream}`));
    return key ? { bucket, key } : undefined;
  }

  // ------------------------------------------------------------ plumbing

  async #call<T>(service: 'SSM' | 'S3', operation: string, run: () => Promise<T>, context: string | undefined): Promise<T> {
    const retry = this.#options.apiRetry ?? {};
    const attempts = retry.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        const code = errorCode(err);
        const status = httpStatus(err);
        const retryable = RETRYABLE_CODES.has(code) || (status !== undefined && status >= 500);
        if (retryable && attempt < attempts) {
          await this.#sleep(this.#jitter((retry.initialDelayMs ?? 1_000) * 2 ** (attempt - 1)));
          continue;
        }
        const message = err instanceof Error ? err.message : String(err);
        throw service === 'SSM' ? new SsmCallError(operation, code, message, context, err) : new S3CallError(operation, code, message, context, err);
      }
    }
  }

  #jitter(ms: number): number {
    return ms / 2 + (this.#random() * ms) / 2;
  }

  #serialized(onInvocation: (invocation: Invocation) => Promise<void>): Deliver {
    let tail: Promise<void> = Promise.resolve();
    return (invocation) => {
      // One record per instance, whichever path produced it first.
      if (this.#handedOver.has(invocation.InstanceId)) return Promise.resolve();
      this.#handedOver.add(invocation.InstanceId);
      const run = tail.then(() => onInvocation(invocation));
      tail = run.catch(() => undefined);
      return run;
    };
  }

  #countCalls(client: SSMClient | S3Client, service: 'SSM' | 'S3'): void {
    const bump = (into: Record<string, number>, commandName: string | undefined): void => {
      const key = `${service}.${(commandName ?? 'Unknown').replace(/Command$/, '')}`;
      into[key] = (into[key] ?? 0) + 1;
    };
    const stack = client.middlewareStack as unknown as MiddlewareAdder;
    stack.add((next, context) => async (args) => {
      bump(this.#calls, context.commandName);
      return next(args);
    }, { step: 'initialize', name: 'fleetAuditCallCounter' });
    // After the retry middleware, so each HTTP attempt counts.
    stack.add((next, context) => async (args) => {
      bump(this.#attempts, context.commandName);
      return next(args);
    }, { step: 'finalizeRequest', priority: 'low', name: 'fleetAuditAttemptCounter' });
  }
}

type Handler = (args: unknown) => Promise<unknown>;
interface MiddlewareAdder {
  add(middleware: (next: Handler, context: { commandName?: string }) => Handler, options: { step: string; name: string; priority?: string }): void;
}

/**
 * Splits the plugin Output of ListCommandInvocations details (stdout, then the agent's ERROR separator and
 * stderr, cut at 2,500 characters) and says which part is known complete without reading S3.
 */
export function splitDetailsOutput(output: string): { stdout: string; stdoutComplete: boolean; stderr: string; stderrComplete: boolean } {
  const at = output.indexOf(DETAILS_ERROR_SEPARATOR);
  // The separator twice means stdout itself printed it: the split cannot be trusted.
  const ambiguous = at >= 0 && at !== output.lastIndexOf(DETAILS_ERROR_SEPARATOR);
  const stdout = at < 0 ? output : output.slice(0, at);
  const stderr = at < 0 ? '' : output.slice(at + DETAILS_ERROR_SEPARATOR.length);
  // Near the limit a copy may be cut in a way we do not recognise, so only a clearly short one is trusted.
  const short = output.length < DETAILS_OUTPUT_LIMIT - 100;
  return {
    stdout,
    stdoutComplete: !ambiguous && (stdout === '' || (short && !stdout.endsWith(DETAILS_OUTPUT_CUT))),
    stderr,
    stderrComplete: !ambiguous && (stderr === '' || (short && !stderr.endsWith(DETAILS_ERROR_CUT))),
  };
}

function isTerminal(status: string | undefined, details: string | undefined): boolean {
  return (status !== undefined && TERMINAL_STATUSES.has(status)) || (details !== undefined && TERMINAL_DETAILS.has(details));
}

/** A record for a node no command reached; StatusDetails is SSM's word for a node that may not exist. */
function notSent(instanceId: string, why: string): Invocation {
  return { InstanceId: instanceId, Status: 'Failed', StatusDetails: 'Undeliverable', ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: why };
}

function notTargeted(instanceId: string, commandId: string, commandEnded: boolean): Invocation {
  return commandEnded
    ? { ...notSent(instanceId, `command ${commandId}, targeted by tag, created no invocation for this node`), CommandId: commandId }
    : { InstanceId: instanceId, CommandId: commandId, Status: 'Pending', StatusDetails: 'Pending', ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: `the wait ended before command ${commandId} listed an invocation for this node` };
}

function neverListed(instanceId: string, commandId: string, waitEnded: boolean): Invocation {
  return waitEnded
    ? { InstanceId: instanceId, CommandId: commandId, Status: 'Pending', StatusDetails: 'Pending', ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: `the wait ended before command ${commandId} listed an invocation for this node` }
    : { ...notSent(instanceId, `command ${commandId} ended without an invocation for this node`), CommandId: commandId };
}

/** Bucket and key of an S3 object URL as SSM reports it (path-style or virtual-hosted). */
export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const path = parsed.pathname.replace(/^\//, '');
  const virtualHosted = /^(?<bucket>.+)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?:\.cn)?$/.exec(parsed.hostname);
  if (virtualHosted?.groups && !/^s3[.-]/.test(parsed.hostname)) {
    return path === '' ? undefined : { bucket: virtualHosted.groups.bucket!, key: decodeURIComponent(path) };
  }
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) return undefined;
  return { bucket: decodeURIComponent(path.slice(0, slash)), key: decodeURIComponent(path.slice(slash + 1)) };
}

function errorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'UnknownError';
  const e = err as { Code?: unknown; code?: unknown; name?: unknown };
  if (typeof e.Code === 'string' && e.Code) return e.Code;
  if (typeof e.code === 'string' && e.code) return e.code;
  if (typeof e.name === 'string' && e.name && e.name !== 'Error') return e.name;
  return 'UnknownError';
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status = (err as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Dates become ISO strings and SDK metadata goes, so the evidence holds plain JSON. */
function jsonify(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const { $metadata: _metadata, ...rest } = value as Record<string, unknown>;
  return JSON.parse(JSON.stringify(Array.isArray(value) ? value : rest));
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`unexpected ${what} from AWS: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `work` over `items` with at most `limit` at a time; the first failure stops new work and is rethrown. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
