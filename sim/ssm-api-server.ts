import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { PutComplianceItemsSchema, SimComplianceStore } from './ssm-compliance-items.ts';
import { simInstanceInformation, simInvocation } from './cluster.ts';
import type { SimFleet, SimVm } from './fleet.ts';
import { holdUnanswered, SimFaultPlan, type SimFaultRule } from './fault-plan.ts';
import type { SimS3Writer } from './s3-server.ts';
import { hashString } from './random.ts';

/**
 * An SSM endpoint speaking the JSON 1.1 protocol over a simulated fleet, so the real SDK client runs
 * unchanged against it: DescribeInstanceInformation, ListTagsForResource, SendCommand, ListCommands,
 * ListCommandInvocations and GetCommandInvocation, with SSM's limits, error shapes, eventual consistency
 * right after SendCommand, and command output uploaded to an S3-compatible endpoint under the agent's
 * key layout.
 */

/** How an invocation ends: the terminal StatusDetails SSM reports. */
export const SIM_SSM_OUTCOMES = [
  'Success',
  'Failed',
  'Undeliverable',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'AccessDenied',
  'InvalidPlatform',
  'Terminated',
  'Cancelled',
] as const;
export type SimSsmOutcome = (typeof SIM_SSM_OUTCOMES)[number];

/** Milliseconds of the simulated timeline; small by default so tests are fast. */
export interface SimSsmDelays {
  /** After SendCommand, how long the invocations stay invisible (empty lists, InvocationDoesNotExist). */
  invocationVisibleMs: number;
  /** Until the agent picks the command up. */
  deliveryMs: number;
  /** How long the script runs. */
  executionMs: number;
  /** Random extra per invocation (seeded by instance id) so invocations finish at different times. */
  spreadMs: number;
  /** Until an offline node's invocation turns Undeliverable. */
  undeliverableMs: number;
  /** Until an invocation that was never picked up turns DeliveryTimedOut. */
  deliveryTimeoutMs: number;
  /** How long an invocation that times out runs before ExecutionTimedOut. */
  executionTimeoutMs: number;
  /** Between the end of an invocation and its output appearing in S3. */
  outputUploadLagMs: number;
}

export const DEFAULT_SIM_SSM_DELAYS: SimSsmDelays = {
  invocationVisibleMs: 5,
  deliveryMs: 10,
  executionMs: 20,
  spreadMs: 20,
  undeliverableMs: 60,
  deliveryTimeoutMs: 80,
  executionTimeoutMs: 60,
  outputUploadLagMs: 15,
};

export interface SimThrottle {
  /** Every n-th request (of the throttled operations) answers ThrottlingException. */
  everyNth?: number;
  /** A token bucket: sustained requests per second… */
  perSecond?: number;
  /** …and its burst size (default perSecond). */
  burst?: number;
  /** Operation names to throttle; all when absent. */
  operations?: string[];
}

export interface SsmApiServerOptions {
  fleet: SimFleet;
  /** Where command output goes when SendCommand names a bucket; without it no output is uploaded. */
  s3?: SimS3Writer;
  region?: string;
  account?: string;
  delays?: Partial<SimSsmDelays>;
  /**
   * The first n lookups of a command's invocations (ListCommandInvocations by CommandId, GetCommandInvocation)
   * answer as if they did not exist yet, whatever the time: eventual consistency that tests can count on.
   */
  hiddenLookups?: number;
  /** Forces the outcome of chosen instances; an Undeliverable one also shows PingStatus ConnectionLost. */
  outcomes?: Record<string, SimSsmOutcome>;
  throttle?: SimThrottle;
  /** Replaces what the diagnostic script prints on a VM (e.g. to make it larger than 24,000 bytes). */
  renderOutput?: (vm: SimVm, rendered: string) => string;
  /** The only document SendCommand accepts; any name when absent. */
  documentName?: string;
  /** The document's step name as it appears in the S3 key and as PluginName. */
  stepName?: string;
  /** Emulated network and service latency added to every answer, in milliseconds (default 0). */
  latencyMs?: number;
  /**
   * Instances whose stdout object in S3 differs from the output SSM reports for the invocation, as if
   * another VM had overwritten it.
   */
  tamperedOutputs?: string[];
  /** Bursts of ThrottlingException, InternalServerError or unanswered requests on chosen operations (fault-plan.ts). */
  faults?: readonly SimFaultRule[];
}

export interface SsmApiServerStats {
  /** Requests per operation, throttled ones included. */
  requests: Record<string, number>;
  throttled: number;
  uploads: number;
  uploadErrors: string[];
}

export interface SsmApiServer {
  endpoint: string;
  region: string;
  stats(): SsmApiServerStats;
  /** The compliance items PutComplianceItems stored, per managed node. */
  compliance: SimComplianceStore;
  /** The injected faults' plan, with what it injected. */
  faults: SimFaultPlan;
  close(): Promise<void>;
}

/** The agent's limits on the API copies of the output. */
export const API_STDOUT_LIMIT = 24_000;
export const API_STDERR_LIMIT = 8_000;
export const DETAILS_OUTPUT_LIMIT = 2_500;
/** What the agent appends to an API copy it cut. */
export const API_TRUNCATION_SUFFIX = '--output truncated--';

const TERMINAL_IMMEDIATELY: ReadonlySet<SimSsmOutcome> = new Set(['AccessDenied', 'InvalidPlatform', 'Terminated']);
const AGENT_RAN: ReadonlySet<SimSsmOutcome> = new Set(['Success', 'Failed', 'ExecutionTimedOut']);

class SsmApiError extends Error {
  readonly type: string;
  readonly status: number;
  /** Modeled SSM errors carry `Message`; errors of the AWS front end carry `message`. */
  readonly modeled: boolean;

  constructor(type: string, message: string | undefined, options: { status?: number; modeled?: boolean } = {}) {
    super(message ?? '');
    this.type = type;
    this.status = options.status ?? 400;
    this.modeled = options.modeled ?? true;
  }
}

function validationError(message: string): SsmApiError {
  return new SsmApiError('ValidationException', message, { modeled: false });
}

// ---------------------------------------------------------------- request schemas (zod, AWS limits)

const INSTANCE_ID = /^(i-(\w{8}|\w{17})|mi-\w{17})$/;
const InstanceIdSchema = z
  .string()
  .regex(INSTANCE_ID, { error: 'Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)' });
const CommandIdSchema = z.string();
const NextTokenSchema = z.string().min(1).optional();

function maxResults(min: number, max: number) {
  return z
    .number()
    .int()
    .min(min, { error: `Member must have value greater than or equal to ${min}` })
    .max(max, { error: `Member must have value less than or equal to ${max}` })
    .optional();
}

const StringFilterSchema = z.object({
  Key: z.string().min(1),
  Values: z.array(z.string().min(1)).min(1).max(100, { error: 'Member must have length less than or equal to 100' }),
});

const DescribeInstanceInformationSchema = z.object({
  InstanceInformationFilterList: z.array(z.unknown()).optional(),
  Filters: z.array(StringFilterSchema).optional(),
  MaxResults: maxResults(5, 50),
  NextToken: NextTokenSchema,
});

const ListTagsForResourceSchema = z.object({
  ResourceType: z.string().min(1),
  ResourceId: z.string().min(1),
});

const TargetSchema = z.object({
  Key: z.string().min(1).max(163),
  Values: z.array(z.string()).min(1).max(50),
});

const SendCommandSchema = z.object({
  InstanceIds: z.array(InstanceIdSchema).max(50, { error: 'Member must have length less than or equal to 50' }).optional(),
  Targets: z.array(TargetSchema).max(5, { error: 'Member must have length less than or equal to 5' }).optional(),
  DocumentName: z.string().min(1),
  DocumentVersion: z.string().optional(),
  TimeoutSeconds: z
    .number()
    .int()
    .min(30, { error: 'Member must have value greater than or equal to 30' })
    .max(2_592_000, { error: 'Member must have value less than or equal to 2592000' })
    .optional(),
  Comment: z.string().max(100, { error: 'Member must have length less than or equal to 100' }).optional(),
  Parameters: z.record(z.string(), z.array(z.string())).optional(),
  OutputS3Region: z.string().min(3).max(20).optional(),
  OutputS3BucketName: z.string().min(3).max(63).optional(),
  OutputS3KeyPrefix: z.string().max(500, { error: 'Member must have length less than or equal to 500' }).optional(),
  MaxConcurrency: z
    .string()
    .regex(/^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/, {
      error: 'Member must satisfy regular expression pattern: ^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$',
    })
    .optional(),
  MaxErrors: z
    .string()
    .regex(/^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/, {
      error: 'Member must satisfy regular expression pattern: ^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$',
    })
    .optional(),
  ServiceRoleArn: z.string().optional(),
});

const CommandFilterSchema = z.object({ key: z.string().min(1), value: z.string().min(1) });

const ListCommandsSchema = z.object({
  CommandId: CommandIdSchema.optional(),
  InstanceId: InstanceIdSchema.optional(),
  MaxResults: maxResults(1, 50),
  NextToken: NextTokenSchema,
  Filters: z.array(CommandFilterSchema).min(1).max(5).optional(),
});

const ListCommandInvocationsSchema = z.object({
  CommandId: CommandIdSchema.optional(),
  InstanceId: InstanceIdSchema.optional(),
  MaxResults: maxResults(1, 50),
  NextToken: NextTokenSchema,
  Filters: z.array(CommandFilterSchema).min(1).max(5).optional(),
  Details: z.boolean().optional(),
});

const GetCommandInvocationSchema = z.object({
  CommandId: CommandIdSchema,
  InstanceId: InstanceIdSchema,
  PluginName: z.string().min(4).optional(),
});

function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const parts = issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'string' ? p.charAt(0).toLowerCase() + p.slice(1) : String(p))).join('.');
    return `Value at '${path}' failed to satisfy constraint: ${issue.message}`;
  });
  throw validationError(`${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${parts.join('; ')}`);
}

// ---------------------------------------------------------------- the simulated command state

interface SimInvocationState {
  instanceId: string;
  computerName: string;
  outcome: SimSsmOutcome;
  visibleAt: number;
  startAt: number;
  endAt: number;
  stdout: string;
  stderr: string;
  responseCode: number;
}

interface SimCommand {
  commandId: string;
  requestedAt: number;
  documentName: string;
  documentVersion: string;
  comment: string;
  parameters: Record<string, string[]>;
  instanceIds: string[];
  targets: Array<{ Key: string; Values: string[] }>;
  timeoutSeconds: number;
  maxConcurrency: string;
  maxErrors: string;
  bucket: string;
  keyPrefix: string;
  s3Region: string;
  invocations: SimInvocationState[];
  lookups: number;
}

interface StatusNow {
  status: string;
  details: string;
  terminal: boolean;
}

/** Starts the SSM endpoint on 127.0.0.1 with an ephemeral port. */
export async function startSsmApiServer(options: SsmApiServerOptions): Promise<SsmApiServer> {
  const fleet = options.fleet;
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const delays: SimSsmDelays = { ...DEFAULT_SIM_SSM_DELAYS, ...options.delays };
  const stepName = options.stepName ?? '0.awsrunShellScript';
  const outcomes = options.outcomes ?? {};
  const hiddenLookups = options.hiddenLookups ?? 0;
  const vmsById = new Map(fleet.vms.map((vm) => [vm.instanceId, vm]));
  for (const id of Object.keys(outcomes)) {
    if (!vmsById.has(id)) throw new Error(`outcome forced for ${id}, which is not a VM of the simulated fleet`);
  }
  const commands = new Map<string, SimCommand>();
  const stats: SsmApiServerStats = { requests: {}, throttled: 0, uploads: 0, uploadErrors: [] };
  const timers = new Set<NodeJS.Timeout>();
  const uploads = new Set<Promise<void>>();
  const throttle = throttler(options.throttle);
  const latency = options.latencyMs ?? 0;
  const tampered = new Set(options.tamperedOutputs ?? []);
  const faults = new SimFaultPlan(options.faults);

  const handlers: Record<string, (body: unknown) => unknown> = {
    DescribeInstanceInformation: describeInstanceInformation,
    ListTagsForResource: listTagsForResource,
    SendCommand: sendCommand,
    ListCommands: listCommands,
    ListCommandInvocations: listCommandInvocations,
    GetCommandInvocation: getCommandInvocation,
    PutComplianceItems: putComplianceItems,
  };
  const compliance = new SimComplianceStore();

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      respondError(res, new SsmApiError('InternalServerError', err instanceof Error ? err.message : String(err), { status: 500 }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    stats: () => structuredClone(stats),
    compliance,
    faults,
    async close(): Promise<void> {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...uploads]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
      respondError(res, new SsmApiError('UnknownOperationException', undefined, { status: 404, modeled: false }));
      return;
    }
    const authProblem = checkAuthorization(req);
    if (authProblem) {
      respondError(res, authProblem);
      return;
    }
    const target = /^AmazonSSM\.(?<op>[A-Za-z]+)$/.exec(String(req.headers['x-amz-target'] ?? ''));
    const op = target?.groups?.op;
    const handler = op === undefined ? undefined : handlers[op];
    if (op === undefined || handler === undefined) {
      respondError(res, new SsmApiError('UnknownOperationException', undefined, { modeled: false }));
      return;
    }
    stats.requests[op] = (stats.requests[op] ?? 0) + 1;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
      respondError(res, new SsmApiError('SerializationException', 'expected Content-Type application/x-amz-json-1.1', { modeled: false }));
      return;
    }
    let json: unknown;
    try {
      json = body.length === 0 ? {} : JSON.parse(body);
    } catch {
      respondError(res, new SsmApiError('SerializationException', 'the request body is not JSON', { modeled: false }));
      return;
    }
    if (throttle(op)) {
      stats.throttled++;
      respondError(res, new SsmApiError('ThrottlingException', 'Rate exceeded', { modeled: false }));
      return;
    }
    const fault = faults.take(op);
    if (fault === 'timeout') return holdUnanswered(res);
    if (fault !== undefined) {
      if (fault === 'throttle') stats.throttled++;
      respondError(
        res,
        fault === 'throttle'
          ? new SsmApiError('ThrottlingException', 'Rate exceeded', { modeled: false })
          : new SsmApiError('InternalServerError', 'injected server error', { status: 500 }),
      );
      return;
    }
    try {
      respond(res, 200, handler(json));
    } catch (err) {
      if (err instanceof SsmApiError) respondError(res, err);
      else throw err;
    }
  }

  // ------------------------------------------------------------ compliance

  function putComplianceItems(body: unknown): unknown {
    const request = parseRequest(PutComplianceItemsSchema, body);
    if (request.ResourceType !== 'ManagedInstance')
      throw new SsmApiError('InvalidResourceType', `resource type ${request.ResourceType} is not supported`);
    if (!fleet.vms.some((vm) => vm.instanceId === request.ResourceId))
      throw new SsmApiError('InvalidResourceId', `${request.ResourceId} is not a managed node`);
    compliance.put(request);
    return {};
  }

  // ------------------------------------------------------------ inventory

  function describeInstanceInformation(body: unknown): unknown {
    const request = parseRequest(DescribeInstanceInformationSchema, body);
    if (request.InstanceInformationFilterList !== undefined && request.Filters !== undefined) {
      throw new SsmApiError('InvalidInstanceInformationFilterValue', 'InstanceInformationFilterList and Filters cannot be used together');
    }
    if (request.InstanceInformationFilterList !== undefined) {
      throw validationError('the simulator supports Filters only, not the legacy InstanceInformationFilterList');
    }
    let vms = fleet.vms;
    for (const filter of request.Filters ?? []) vms = vms.filter(instanceFilter(filter.Key, filter.Values));
    const items = vms.map(wireInstanceInformation);
    return page(
      items,
      request.MaxResults ?? 10,
      request.NextToken,
      fingerprint('DescribeInstanceInformation', request.Filters),
      'InstanceInformationList',
    );
  }

  function instanceFilter(key: string, values: string[]): (vm: SimVm) => boolean {
    if (key === 'InstanceIds') return (vm) => values.includes(vm.instanceId);
    if (key === 'tag-key') return (vm) => tagsOf(vm).some((t) => values.includes(t.Key));
    if (key.startsWith('tag:')) {
      const tagKey = key.slice(4);
      return (vm) => tagsOf(vm).some((t) => t.Key === tagKey && values.includes(t.Value));
    }
    if (key === 'PingStatus') return (vm) => values.includes(pingStatus(vm));
    if (key === 'ResourceType') {
      if (values.length !== 1)
        throw new SsmApiError('InvalidInstanceInformationFilterValue', 'ResourceType filter may contain only one value.');
      return (vm) => (vm.hybrid ? 'ManagedInstance' : 'EC2Instance') === values[0];
    }
    if (key === 'PlatformTypes' || key === 'PlatformType') return () => values.includes('Linux');
    throw new SsmApiError('InvalidFilterKey', `the filter key ${key} is not supported`);
  }

  function tagsOf(vm: SimVm): Array<{ Key: string; Value: string }> {
    return simInstanceInformation(fleet, vm).Tags ?? [];
  }

  function pingStatus(vm: SimVm): string {
    if (outcomes[vm.instanceId] === 'Undeliverable') return 'ConnectionLost';
    return simInstanceInformation(fleet, vm).PingStatus ?? 'Online';
  }

  function wireInstanceInformation(vm: SimVm): Record<string, unknown> {
    // DescribeInstanceInformation returns no tags (those come from ListTagsForResource) and dates as epoch seconds.
    const { Tags: _tags, LastPingDateTime: _lastPing, ...info } = simInstanceInformation(fleet, vm);
    const status = pingStatus(vm);
    const wire: Record<string, unknown> = {
      ...info,
      PingStatus: status,
      LastPingDateTime: (fleet.now.getTime() - (status === 'Online' ? 60_000 : 3 * 3600_000)) / 1000,
      SourceId: vm.instanceId,
      SourceType: vm.hybrid ? 'AWS::SSM::ManagedInstance' : 'AWS::EC2::Instance',
    };
    if (vm.hybrid) {
      wire.RegistrationDate = (fleet.now.getTime() - 90 * 86400_000) / 1000;
      wire.IamRole = 'fleet-audit-hybrid-node';
      wire.ActivationId = `${hashString(vm.namespace).toString(16).padStart(8, '0')}-0000-4000-8000-000000000001`;
    }
    return wire;
  }

  function listTagsForResource(body: unknown): unknown {
    const request = parseRequest(ListTagsForResourceSchema, body);
    if (request.ResourceType !== 'ManagedInstance') {
      throw new SsmApiError(
        'InvalidResourceType',
        `the simulator keeps tags of ManagedInstance resources only, not ${request.ResourceType}`,
      );
    }
    const vm = vmsById.get(request.ResourceId);
    // EC2 instances keep their tags in EC2; SSM only knows the tags of hybrid (mi-) nodes.
    if (!vm || !vm.hybrid)
      throw new SsmApiError('InvalidResourceId', 'The resource ID is not valid. Verify that you entered the correct ID and try again.');
    return { TagList: tagsOf(vm) };
  }

  // ------------------------------------------------------------ commands

  function sendCommand(body: unknown): unknown {
    const request = parseRequest(SendCommandSchema, body);
    const hasIds = request.InstanceIds !== undefined && request.InstanceIds.length > 0;
    const hasTargets = request.Targets !== undefined && request.Targets.length > 0;
    if (hasIds === hasTargets) throw validationError('Specify either InstanceIds or Targets, not both and not neither.');
    if (options.documentName !== undefined && request.DocumentName !== options.documentName) {
      throw new SsmApiError('InvalidDocument', `Document ${request.DocumentName} does not exist in your account.`);
    }
    if (request.OutputS3KeyPrefix !== undefined && request.OutputS3BucketName === undefined) {
      throw new SsmApiError('InvalidOutputFolder', 'OutputS3KeyPrefix needs OutputS3BucketName.');
    }
    let targeted: SimVm[];
    if (hasIds) {
      const ids = request.InstanceIds!;
      if (new Set(ids).size !== ids.length)
        throw new SsmApiError('DuplicateInstanceId', "You can't specify a managed node ID in more than one association.");
      const unknown = ids.filter((id) => !vmsById.has(id));
      if (unknown.length > 0) {
        throw new SsmApiError(
          'InvalidInstanceId',
          `Instances [${unknown.map((id) => `[${id}]`).join(', ')}] not in a valid state for account ${account}`,
        );
      }
      targeted = ids.map((id) => vmsById.get(id)!);
    } else {
      targeted = fleet.vms;
      for (const target of request.Targets!) targeted = targeted.filter(targetFilter(target.Key, target.Values));
    }
    const now = Date.now();
    const commandId = randomUUID();
    const command: SimCommand = {
      commandId,
      requestedAt: now,
      documentName: request.DocumentName,
      documentVersion: request.DocumentVersion ?? '$DEFAULT',
      comment: request.Comment ?? '',
      parameters: request.Parameters ?? {},
      instanceIds: hasIds ? request.InstanceIds! : [],
      targets: hasTargets ? request.Targets! : [],
      timeoutSeconds: request.TimeoutSeconds ?? 3600,
      maxConcurrency: request.MaxConcurrency ?? '50',
      maxErrors: request.MaxErrors ?? '0',
      bucket: request.OutputS3BucketName ?? '',
      keyPrefix: request.OutputS3KeyPrefix ?? '',
      s3Region: request.OutputS3Region ?? region,
      invocations: targeted.map((vm) => plan(vm, now)),
      lookups: 0,
    };
    commands.set(commandId, command);
    if (command.bucket !== '' && options.s3) for (const inv of command.invocations) scheduleUpload(command, inv, now);
    return { Command: wireCommand(command, now) };
  }

  function targetFilter(key: string, values: string[]): (vm: SimVm) => boolean {
    if (key === 'InstanceIds') return (vm) => values.includes(vm.instanceId);
    if (key === 'tag-key') return (vm) => tagsOf(vm).some((t) => values.includes(t.Key));
    if (key.startsWith('tag:')) {
      const tagKey = key.slice(4);
      return (vm) => tagsOf(vm).some((t) => t.Key === tagKey && values.includes(t.Value));
    }
    throw validationError(`the simulator does not resolve targets by ${key}`);
  }

  function plan(vm: SimVm, now: number): SimInvocationState {
    const spread = hashString(`${fleet.seed}:${vm.instanceId}:spread`) % (delays.spreadMs + 1);
    const base = simInvocation(fleet, vm);
    const outcome: SimSsmOutcome =
      outcomes[vm.instanceId] ??
      (base.StatusDetails === 'Undeliverable' ? 'Undeliverable' : base.Status === 'Success' ? 'Success' : 'Failed');
    const visibleAt = now + delays.invocationVisibleMs;
    const startAt = visibleAt + delays.deliveryMs + spread;
    let endAt = startAt + delays.executionMs;
    let stdout = '';
    let stderr = '';
    let responseCode = -1;
    const rendered = base.StandardOutputContent ?? '';
    const output = options.renderOutput ? options.renderOutput(vm, rendered) : rendered;
    switch (outcome) {
      case 'Success':
        stdout = output;
        stderr = base.StandardErrorContent ?? '';
        responseCode = 0;
        break;
      case 'Failed':
        stderr = 'fleet-audit: cannot run the diagnostics: /bin/sh: 1: set: Illegal option -o pipefail\n';
        responseCode = 2;
        break;
      case 'ExecutionTimedOut':
        // The agent kills the script; what it printed so far is kept.
        stdout = output.slice(0, Math.floor(output.length / 2));
        stderr = 'failed to run commands: exit status 137\n';
        responseCode = 137;
        endAt = startAt + delays.executionTimeoutMs;
        break;
      case 'Undeliverable':
        endAt = visibleAt + delays.undeliverableMs + spread;
        break;
      case 'DeliveryTimedOut':
        endAt = visibleAt + delays.deliveryTimeoutMs + spread;
        break;
      case 'Cancelled':
        endAt = startAt;
        break;
      default:
        endAt = visibleAt;
    }
    return {
      instanceId: vm.instanceId,
      computerName: simInstanceInformation(fleet, vm).ComputerName ?? '',
      outcome,
      visibleAt,
      startAt,
      endAt,
      stdout,
      stderr,
      responseCode,
    };
  }

  function statusAt(inv: SimInvocationState, t: number): StatusNow {
    if (t >= inv.endAt || TERMINAL_IMMEDIATELY.has(inv.outcome)) return terminalStatus(inv.outcome);
    if (inv.outcome === 'Undeliverable') {
      return t < (inv.visibleAt + inv.endAt) / 2
        ? { status: 'Pending', details: 'Pending', terminal: false }
        : { status: 'Delayed', details: 'Delayed', terminal: false };
    }
    if (inv.outcome === 'DeliveryTimedOut' || t < inv.startAt) return { status: 'Pending', details: 'Pending', terminal: false };
    return { status: 'InProgress', details: 'InProgress', terminal: false };
  }

  function scheduleUpload(command: SimCommand, inv: SimInvocationState, now: number): void {
    if (!AGENT_RAN.has(inv.outcome)) return;
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        const writer = options.s3!;
        // The agent uploads only the streams that have content.
        const puts: Array<Promise<void>> = [];
        const stdout = tampered.has(inv.instanceId) ? `forged by another node\n${inv.stdout}` : inv.stdout;
        if (stdout !== '') puts.push(writer.put(command.bucket, outputKey(command, inv.instanceId, 'stdout'), stdout));
        if (inv.stderr !== '') puts.push(writer.put(command.bucket, outputKey(command, inv.instanceId, 'stderr'), inv.stderr));
        const upload = Promise.all(puts).then(
          () => {
            stats.uploads += puts.length;
          },
          (err: unknown) => {
            stats.uploadErrors.push(`${command.commandId}/${inv.instanceId}: ${err instanceof Error ? err.message : String(err)}`);
          },
        );
        uploads.add(upload);
        void upload.finally(() => uploads.delete(upload));
      },
      Math.max(0, inv.endAt + delays.outputUploadLagMs - now),
    );
    timers.add(timer);
  }

  function outputKey(command: SimCommand, instanceId: string, stream: 'stdout' | 'stderr'): string {
    return [command.keyPrefix, command.commandId, instanceId, 'awsrunShellScript', stepName, stream]
      .flatMap((part) => part.split('/'))
      .filter((part) => part !== '')
      .join('/');
  }

  function outputUrl(command: SimCommand, instanceId: string, stream: 'stdout' | 'stderr'): string {
    if (command.bucket === '') return '';
    return `https://s3.${command.s3Region}.amazonaws.com/${command.bucket}/${outputKey(command, instanceId, stream)}`;
  }

  function wireCommand(command: SimCommand, t: number): Record<string, unknown> {
    const states = command.invocations.map((inv) => ({ inv, now: statusAt(inv, t) }));
    const completed = states.filter((s) => s.now.terminal);
    const errors = completed.filter((s) => ['Failed', 'ExecutionTimedOut'].includes(s.now.details));
    const deliveryTimedOut = completed.filter((s) => s.now.details === 'DeliveryTimedOut');
    const { status, details } = commandStatus(states.map((s) => s.now));
    return {
      CommandId: command.commandId,
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      Comment: command.comment,
      ExpiresAfter: (command.requestedAt + command.timeoutSeconds * 1000) / 1000,
      Parameters: command.parameters,
      InstanceIds: command.instanceIds,
      Targets: command.targets,
      RequestedDateTime: command.requestedAt / 1000,
      Status: status,
      StatusDetails: details,
      OutputS3Region: command.s3Region,
      OutputS3BucketName: command.bucket,
      OutputS3KeyPrefix: command.keyPrefix,
      MaxConcurrency: command.maxConcurrency,
      MaxErrors: command.maxErrors,
      TargetCount: command.invocations.length,
      CompletedCount: completed.length,
      ErrorCount: errors.length,
      DeliveryTimedOutCount: deliveryTimedOut.length,
      ServiceRole: '',
      NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
      TimeoutSeconds: command.timeoutSeconds,
    };
  }

  function listCommands(body: unknown): unknown {
    const request = parseRequest(ListCommandsSchema, body);
    if (request.CommandId !== undefined && request.CommandId.length !== 36) throw new SsmApiError('InvalidCommandId', undefined);
    const t = Date.now();
    let list = [...commands.values()].sort((a, b) => b.requestedAt - a.requestedAt);
    if (request.CommandId !== undefined) list = list.filter((c) => c.commandId === request.CommandId);
    if (request.InstanceId !== undefined) list = list.filter((c) => c.invocations.some((i) => i.instanceId === request.InstanceId));
    for (const filter of request.Filters ?? []) list = list.filter(commandFilter(filter.key, filter.value, t, 'ListCommands'));
    // Right after SendCommand a command may not be listed yet.
    list = list.filter((c) => t >= c.requestedAt + delays.invocationVisibleMs);
    const items = list.map((c) => wireCommand(c, t));
    return page(
      items,
      request.MaxResults ?? 50,
      request.NextToken,
      fingerprint('ListCommands', request.CommandId, request.InstanceId, request.Filters),
      'Commands',
    );
  }

  function commandFilter(key: string, value: string, t: number, op: string): (c: SimCommand) => boolean {
    if (key === 'InvokedAfter' || key === 'InvokedBefore') {
      const at = Date.parse(value);
      if (Number.isNaN(at)) throw new SsmApiError('InvalidFilterValue', `${value} is not a valid timestamp for ${key}`);
      return key === 'InvokedAfter' ? (c) => c.requestedAt >= at : (c) => c.requestedAt <= at;
    }
    if (key === 'DocumentName') return (c) => c.documentName === value;
    if (key === 'Status') return (c) => commandStatus(c.invocations.map((i) => statusAt(i, t))).status === value;
    if (key === 'ExecutionStage') {
      if (op !== 'ListCommands') throw new SsmApiError('InvalidFilterKey', 'ExecutionStage can only be used with ListCommands');
      if (value !== 'Executing' && value !== 'Complete')
        throw new SsmApiError('InvalidFilterValue', `${value} is not a valid ExecutionStage`);
      return (c) => c.invocations.every((i) => statusAt(i, t).terminal) === (value === 'Complete');
    }
    throw new SsmApiError('InvalidFilterKey', undefined);
  }

  function listCommandInvocations(body: unknown): unknown {
    const request = parseRequest(ListCommandInvocationsSchema, body);
    if (request.CommandId !== undefined && request.CommandId.length !== 36) throw new SsmApiError('InvalidCommandId', undefined);
    const t = Date.now();
    let list = [...commands.values()].sort((a, b) => b.requestedAt - a.requestedAt);
    if (request.CommandId !== undefined) list = list.filter((c) => c.commandId === request.CommandId);
    for (const filter of request.Filters ?? []) {
      if (filter.key === 'Status') continue;
      list = list.filter(commandFilter(filter.key, filter.value, t, 'ListCommandInvocations'));
    }
    const statusFilter = request.Filters?.find((f) => f.key === 'Status')?.value;
    const items: unknown[] = [];
    for (const command of list) {
      if (request.CommandId !== undefined && ++command.lookups <= hiddenLookups) continue;
      for (const inv of command.invocations) {
        if (t < inv.visibleAt) continue;
        if (request.InstanceId !== undefined && inv.instanceId !== request.InstanceId) continue;
        const now = statusAt(inv, t);
        if (statusFilter !== undefined && now.status !== statusFilter && now.details !== statusFilter) continue;
        items.push(wireInvocation(command, inv, now, request.Details ?? false));
      }
    }
    return page(
      items,
      request.MaxResults ?? 50,
      request.NextToken,
      fingerprint('ListCommandInvocations', request.CommandId, request.InstanceId, request.Filters, request.Details),
      'CommandInvocations',
    );
  }

  function wireInvocation(command: SimCommand, inv: SimInvocationState, now: StatusNow, details: boolean): Record<string, unknown> {
    const ran = now.terminal && AGENT_RAN.has(inv.outcome);
    const plugin = {
      Name: stepName === '0.awsrunShellScript' ? 'aws:runShellScript' : stepName,
      Status: now.status,
      StatusDetails: now.details,
      ResponseCode: now.terminal ? inv.responseCode : -1,
      ResponseStartDateTime:
        now.status !== 'Pending' && now.status !== 'Delayed' && AGENT_RAN.has(inv.outcome) ? inv.startAt / 1000 : undefined,
      ResponseFinishDateTime: ran ? inv.endAt / 1000 : undefined,
      Output: ran ? detailsOutput(inv.stdout, inv.stderr) : '',
      StandardOutputUrl: outputUrl(command, inv.instanceId, 'stdout'),
      StandardErrorUrl: outputUrl(command, inv.instanceId, 'stderr'),
      OutputS3Region: command.s3Region,
      OutputS3BucketName: command.bucket,
      OutputS3KeyPrefix: command.keyPrefix,
    };
    return {
      CommandId: command.commandId,
      InstanceId: inv.instanceId,
      InstanceName: inv.computerName,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      RequestedDateTime: command.requestedAt / 1000,
      Status: now.status,
      StatusDetails: now.details,
      TraceOutput: '',
      StandardOutputUrl: outputUrl(command, inv.instanceId, 'stdout'),
      StandardErrorUrl: outputUrl(command, inv.instanceId, 'stderr'),
      CommandPlugins: details ? [plugin] : [],
      ServiceRole: '',
      NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  function getCommandInvocation(body: unknown): unknown {
    const request = parseRequest(GetCommandInvocationSchema, body);
    if (request.CommandId.length !== 36) throw new SsmApiError('InvalidCommandId', undefined);
    const t = Date.now();
    const command = commands.get(request.CommandId);
    const hidden = command !== undefined && ++command.lookups <= hiddenLookups;
    const inv = command?.invocations.find((i) => i.instanceId === request.InstanceId);
    if (!command || !inv || hidden || t < inv.visibleAt) throw new SsmApiError('InvocationDoesNotExist', undefined);
    if (request.PluginName !== undefined && request.PluginName !== stepName && request.PluginName !== 'aws:runShellScript') {
      throw new SsmApiError('InvalidPluginName', undefined);
    }
    const now = statusAt(inv, t);
    const ran = now.terminal && AGENT_RAN.has(inv.outcome);
    const started = AGENT_RAN.has(inv.outcome) && t >= inv.startAt;
    return {
      CommandId: command.commandId,
      InstanceId: inv.instanceId,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      PluginName: stepName,
      ResponseCode: now.terminal ? inv.responseCode : -1,
      ExecutionStartDateTime: started ? new Date(inv.startAt).toISOString() : '',
      ExecutionElapsedTime: started ? `PT${((Math.min(t, inv.endAt) - inv.startAt) / 1000).toFixed(3)}S` : '',
      ExecutionEndDateTime: ran ? new Date(inv.endAt).toISOString() : '',
      Status: now.status,
      StatusDetails: now.details,
      StandardOutputContent: ran ? cutApiCopy(inv.stdout, API_STDOUT_LIMIT) : '',
      StandardOutputUrl: outputUrl(command, inv.instanceId, 'stdout'),
      StandardErrorContent: ran ? cutApiCopy(inv.stderr, API_STDERR_LIMIT) : '',
      StandardErrorUrl: outputUrl(command, inv.instanceId, 'stderr'),
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }
}

/** The terminal Status that SSM reports with each terminal StatusDetails. */
export function terminalStatus(outcome: SimSsmOutcome): StatusNow {
  switch (outcome) {
    case 'Success':
      return { status: 'Success', details: 'Success', terminal: true };
    case 'DeliveryTimedOut':
    case 'ExecutionTimedOut':
      return { status: 'TimedOut', details: outcome, terminal: true };
    case 'Cancelled':
      return { status: 'Cancelled', details: 'Cancelled', terminal: true };
    default:
      return { status: 'Failed', details: outcome, terminal: true };
  }
}

function commandStatus(states: StatusNow[]): { status: string; details: string } {
  if (states.length === 0) return { status: 'Failed', details: 'NoInstancesInTag' };
  if (states.every((s) => !s.terminal && s.status === 'Pending')) return { status: 'Pending', details: 'Pending' };
  if (states.some((s) => !s.terminal)) return { status: 'InProgress', details: 'InProgress' };
  // Undeliverable, InvalidPlatform and AccessDenied invocations do not count against the command.
  const counted = states.filter((s) => !['Undeliverable', 'InvalidPlatform', 'AccessDenied'].includes(s.details));
  const successes = counted.filter((s) => s.details === 'Success').length;
  if (successes === 0) return { status: 'Failed', details: 'Failed' };
  if (successes === counted.length) return { status: 'Success', details: 'Success' };
  return { status: 'Failed', details: 'Incomplete' };
}

/** Cuts an API copy of a stream the way the agent does: to `limit` bytes, ending with the marker. */
export function cutApiCopy(text: string, limit: number, suffix = API_TRUNCATION_SUFFIX): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length < limit) return text;
  return bytes.subarray(0, limit - Buffer.byteLength(suffix)).toString('utf8') + suffix;
}

const ERROR_SEPARATOR = '\n----------ERROR-------\n';
const OUTPUT_CUT = '\n---Output truncated---';
const ERROR_CUT = '\n---Error truncated----';

/** The plugin's `Output` in ListCommandInvocations details: stdout and stderr together, cut at 2,500 characters. */
export function detailsOutput(stdout: string, stderr: string, capacity = DETAILS_OUTPUT_LIMIT): string {
  const whole = stderr === '' ? stdout : `${stdout}${ERROR_SEPARATOR}${stderr}`;
  if (whole.length <= capacity) return whole;
  if (stderr === '') return stdout.slice(0, capacity - OUTPUT_CUT.length) + OUTPUT_CUT;
  const room = capacity - ERROR_SEPARATOR.length;
  const half = Math.floor(room / 2);
  const out = stdout.length <= half - OUTPUT_CUT.length ? stdout : stdout.slice(0, half - OUTPUT_CUT.length) + OUTPUT_CUT;
  const errRoom = room - out.length;
  const err = stderr.length <= errRoom ? stderr : stderr.slice(0, errRoom - ERROR_CUT.length) + ERROR_CUT;
  return `${out}${ERROR_SEPARATOR}${err}`;
}

// ---------------------------------------------------------------- protocol plumbing

/** Accepts any SigV4 signature but insists on a well-formed Authorization header, as a client bug would show. */
function checkAuthorization(req: IncomingMessage): SsmApiError | undefined {
  const header = req.headers.authorization;
  if (header === undefined || header === '')
    return new SsmApiError('MissingAuthenticationTokenException', 'Missing Authentication Token', { status: 403, modeled: false });
  const sigv4 =
    /^AWS4-HMAC-SHA256 Credential=[^/\s]+\/\d{8}\/[a-z0-9-]+\/ssm\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/;
  if (!sigv4.test(header)) {
    return new SsmApiError(
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature for the ssm service',
      { modeled: false },
    );
  }
  if (req.headers['x-amz-date'] === undefined)
    return new SsmApiError(
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      { modeled: false },
    );
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > 1_048_576) throw new Error('request body larger than 1 MiB');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function respond(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

function respondError(res: ServerResponse, err: SsmApiError): void {
  const payload: Record<string, string> = { __type: err.type };
  if (err.message !== '') payload[err.modeled ? 'Message' : 'message'] = err.message;
  respond(res, err.status, payload);
}

const PageTokenSchema = z.object({ o: z.number().int().min(0), f: z.string() });

/** Pages a list: NextToken is opaque, bound to the request it came from. */
function page(items: unknown[], size: number, token: string | undefined, print: string, field: string): Record<string, unknown> {
  let offset = 0;
  if (token !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      decoded = undefined;
    }
    const parsed = PageTokenSchema.safeParse(decoded);
    if (!parsed.success || parsed.data.f !== print) throw new SsmApiError('InvalidNextToken', "The specified token isn't valid.");
    offset = parsed.data.o;
  }
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(JSON.stringify({ o: offset + size, f: print })).toString('base64url') : undefined;
  return next === undefined ? { [field]: slice } : { [field]: slice, NextToken: next };
}

function fingerprint(...parts: unknown[]): string {
  return hashString(JSON.stringify(parts)).toString(36);
}

function throttler(config: SimThrottle | undefined): (op: string) => boolean {
  if (!config) return () => false;
  let count = 0;
  const burst = config.burst ?? config.perSecond ?? 0;
  let tokens = burst;
  let refilledAt = Date.now();
  return (op) => {
    if (config.operations && !config.operations.includes(op)) return false;
    count++;
    if (config.everyNth !== undefined && count % config.everyNth === 0) return true;
    if (config.perSecond !== undefined) {
      const t = Date.now();
      tokens = Math.min(burst, tokens + ((t - refilledAt) / 1000) * config.perSecond);
      refilledAt = t;
      if (tokens < 1) return true;
      tokens -= 1;
    }
    return false;
  };
}
