import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { InstanceInformation, Inventory, Invocation } from '../core/evidence-bundle.ts';
import type { FleetRunner } from '../ports/fleet-runner.ts';
import { AwsCaller } from './ssm/aws-call.ts';
import { serialized, type SsmContext } from './ssm/context.ts';
import { listInventory } from './ssm/inventory.ts';
import { collectOnce, waitForCommands } from './ssm/poll.ts';
import { deliverNotSent, sendToFleet } from './ssm/send.ts';
import type { CollectResult, SentCommand, SsmFleetRunnerOptions } from './ssm/types.ts';

/**
 * Runs the diagnostic script on the fleet through SSM Run Command: the inventory from
 * DescribeInstanceInformation (ssm/inventory.ts), one SendCommand per ≤ 50 nodes or one by tag
 * (ssm/send.ts), completion by polling ListCommands / ListCommandInvocations (ssm/poll.ts), and each
 * node's complete stdout from the evidence bucket, bounded and checked against SSM's copy (ssm/output.ts).
 */

export { AwsCallError, S3CallError, SsmCallError } from './ssm/aws-call.ts';
export { splitDetailsOutput } from './ssm/details-output.ts';
export { parseS3Url } from './ssm/output.ts';
export type { CollectResult, PollEvent, PollOptions, RetryOptions, SentCommand, SsmFleetRunnerOptions, SsmTarget } from './ssm/types.ts';

/** Runs the diagnostic script on the fleet through SSM Run Command, output read from S3. */
export class SsmFleetRunner implements FleetRunner {
  readonly #ctx: SsmContext;
  /** Explicitly targeted ids that DescribeInstanceInformation does not list. */
  #absentIds: string[] = [];
  #inventoryIds: Set<string> | undefined;

  constructor(options: SsmFleetRunnerOptions) {
    if (options.target.kind === 'instanceIds' && options.target.instanceIds.length === 0)
      throw new Error('SsmFleetRunner: the instanceIds target lists no instance');
    if (options.target.kind === 'tag' && options.target.values?.length === 0)
      throw new Error('SsmFleetRunner: the tag target lists no value');
    if (options.keyPrefix !== undefined && options.bucket === undefined) throw new Error('SsmFleetRunner: keyPrefix needs a bucket');
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const aws = new AwsCaller(options.apiRetry ?? {}, sleep, options.random ?? Math.random);
    const common = {
      credentials: options.credentials,
      retryMode: 'adaptive',
      maxAttempts: options.maxAttempts ?? 5,
      // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes and keeps
      // waiting: a lost answer would hold the collector until its function is killed.
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, throwOnRequestTimeout: true, connectionTimeout: 5_000 },
    } as const;
    const ssm = new SSMClient({
      ...common,
      ...(options.region ? { region: options.region } : {}),
      ...(options.ssmEndpoint ? { endpoint: options.ssmEndpoint } : {}),
    });
    const s3Region = options.s3Region ?? options.region;
    const s3 = new S3Client({
      ...common,
      ...(s3Region ? { region: s3Region } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.s3Endpoint ? { endpoint: options.s3Endpoint } : {}),
    });
    aws.countCalls(ssm, 'SSM');
    aws.countCalls(s3, 'S3');
    this.#ctx = {
      ssm,
      s3,
      options,
      aws,
      sleep,
      now: options.now ?? Date.now,
      region: async () => options.region ?? (await ssm.config.region()),
      handedOver: new Set(),
    };
  }

  /** The region the SSM client resolved (the option, or the SDK's chain). */
  async region(): Promise<string> {
    return this.#ctx.region();
  }

  /** API calls made so far per service and operation, e.g. {'SSM.SendCommand': 3, 'S3.GetObject': 120}. */
  callCounts(): Record<string, number> {
    return this.#ctx.aws.callCounts();
  }

  /** HTTP requests made so far per service and operation, SDK retries included. */
  httpRequestCounts(): Record<string, number> {
    return this.#ctx.aws.httpRequestCounts();
  }

  /** Closes the SDK clients' connections. */
  destroy(): void {
    this.#ctx.ssm.destroy();
    this.#ctx.s3.destroy();
  }

  async listInstances(): Promise<Inventory> {
    const { items, absentIds } = await listInventory(this.#ctx);
    this.#absentIds = absentIds;
    this.#inventoryIds = new Set(items.map((i) => i.InstanceId));
    return { InstanceInformationList: items };
  }

  async runDiagnostics(instances: InstanceInformation[], onInvocation: (invocation: Invocation) => Promise<void>): Promise<void> {
    const sent = await this.sendDiagnostics(instances, onInvocation);
    await this.waitForCompletion(
      sent,
      onInvocation,
      instances.map((i) => i.InstanceId),
    );
  }

  /**
   * Sends the diagnostic command to the instances (and, for an explicit list, records the listed ids that
   * SSM does not manage). Instances SendCommand rejects are handed over as Undeliverable records.
   */
  async sendDiagnostics(instances: InstanceInformation[], onInvocation: (invocation: Invocation) => Promise<void>): Promise<SentCommand[]> {
    const ctx = this.#ctx;
    const deliver = serialized(ctx, onInvocation);
    await deliverNotSent(
      ctx,
      this.#absentIds,
      () =>
        'DescribeInstanceInformation does not list this node: it is not a managed node of SSM in this account and region, so no command was sent to it',
      deliver,
    );
    this.#absentIds = [];
    const ids = [...new Set(instances.map((i) => i.InstanceId))].filter((id) => !ctx.handedOver.has(id));
    if (ids.length === 0) return [];
    const inventory = this.#inventoryIds;
    const wholeInventory = inventory !== undefined && ids.length === inventory.size && ids.every((id) => inventory.has(id));
    return sendToFleet(ctx, ids, wholeInventory, deliver);
  }

  /**
   * Polls until every invocation of the commands is terminal or the wait times out, handing each over as
   * soon as it ends; afterwards the rest are handed over with their last status. `expected` names the
   * instances that must each end with one invocation (by default those the commands were sent to).
   */
  async waitForCompletion(
    sent: SentCommand[],
    onInvocation: (invocation: Invocation) => Promise<void>,
    expected?: string[],
  ): Promise<void> {
    const waitingFor = expected ?? sent.flatMap((s) => s.instanceIds ?? []);
    await waitForCommands(this.#ctx, sent, serialized(this.#ctx, onInvocation), waitingFor, expected);
  }

  /**
   * Lists the invocations of the commands once and hands over every terminal one not in `skip`
   * (instance ids), complete output included; also the entry point when completion is signalled by events.
   */
  async collect(
    commandIds: string[],
    onInvocation: (invocation: Invocation) => Promise<void>,
    options: { skip?: ReadonlySet<string> } = {},
  ): Promise<CollectResult> {
    const collected: string[] = [];
    const deliver = serialized(this.#ctx, async (invocation) => {
      collected.push(invocation.InstanceId);
      await onInvocation(invocation);
    });
    const pending = await collectOnce(this.#ctx, commandIds, deliver, options.skip);
    return { collected, pending };
  }
}
