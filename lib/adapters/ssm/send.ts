import { SendCommandCommand, type SendCommandCommandInput, type Target } from '@aws-sdk/client-ssm';
import { missingInvocationRecords } from '../../core/invocation-records.ts';
import { chunks, isAwsError, parseWith, type AwsCallError } from './aws-call.ts';
import type { Deliver, SsmContext } from './context.ts';
import { SentCommandSchema } from './schemas.ts';
import type { SentCommand } from './types.ts';

const MAX_IDS_PER_COMMAND = 50;
const COMMENT_LIMIT = 100;

/**
 * Sends the diagnostic command: one command by tag when the target is a tag and the instances are the whole
 * inventory, otherwise one per ≤ 50 instance ids. Nodes SendCommand refuses are handed over as not sent.
 */
export async function sendToFleet(ctx: SsmContext, ids: string[], wholeInventory: boolean, deliver: Deliver): Promise<SentCommand[]> {
  const target = ctx.options.target;
  if (target.kind === 'tag' && (ctx.options.sendByTargets ?? true) && wholeInventory) {
    const targets: Target[] = [
      target.values ? { Key: `tag:${target.key}`, Values: target.values } : { Key: 'tag-key', Values: [target.key] },
    ];
    return [await sendCommand(ctx, { Targets: targets }, undefined, `targets tag ${target.key}`)];
  }
  const sent: SentCommand[] = [];
  for (const chunk of chunks(ids, MAX_IDS_PER_COMMAND)) sent.push(...(await sendChunk(ctx, chunk, deliver)));
  return sent;
}

/** Hands over a not-sent record for each node, with why. */
export async function deliverNotSent(
  ctx: SsmContext,
  ids: readonly string[],
  why: (id: string) => string,
  deliver: Deliver,
): Promise<void> {
  const notSent = new Map(ids.map((id) => [id, why(id)]));
  for (const record of missingInvocationRecords({ targeted: ids, recorded: ctx.handedOver, notSent, moment: 'wait-ended' }))
    await deliver(record);
}

async function sendChunk(ctx: SsmContext, ids: string[], deliver: Deliver): Promise<SentCommand[]> {
  try {
    return [await sendCommand(ctx, { InstanceIds: ids }, ids, `${ids.length} instances from ${ids[0]}`)];
  } catch (err) {
    // SendCommand refuses the whole call for one node it cannot reach; halve until that node is alone.
    if (!isAwsError(err, 'InvalidInstanceId')) throw err;
    if (ids.length === 1) {
      const message = (err as AwsCallError).message;
      await deliverNotSent(ctx, ids, () => `SendCommand rejected this node: ${message}`, deliver);
      return [];
    }
    const half = Math.ceil(ids.length / 2);
    return [...(await sendChunk(ctx, ids.slice(0, half), deliver)), ...(await sendChunk(ctx, ids.slice(half), deliver))];
  }
}

async function sendCommand(
  ctx: SsmContext,
  targeting: Pick<SendCommandCommandInput, 'InstanceIds' | 'Targets'>,
  instanceIds: string[] | undefined,
  context: string,
): Promise<SentCommand> {
  const o = ctx.options;
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
    OutputS3Region: o.bucket === undefined ? undefined : (o.s3Region ?? (await ctx.region())),
  };
  const answer = await ctx.aws.call('SSM', 'SendCommand', () => ctx.ssm.send(new SendCommandCommand(input)), context);
  const command = parseWith(SentCommandSchema, answer.Command, 'SendCommand Command');
  return { commandId: command.CommandId, instanceIds, requestedAt: command.RequestedDateTime ?? new Date(ctx.now()) };
}
