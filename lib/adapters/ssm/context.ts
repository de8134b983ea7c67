import type { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Invocation } from '../../core/evidence-bundle.ts';
import type { AwsCaller } from './aws-call.ts';
import type { SsmFleetRunnerOptions } from './types.ts';

/** What the runner's parts share: the clients, the options, the clock, and the instances handed over. */
export interface SsmContext {
  readonly ssm: SSMClient;
  readonly s3: S3Client;
  readonly options: SsmFleetRunnerOptions;
  readonly aws: AwsCaller;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** The region the SSM client resolved. */
  region(): Promise<string>;
  /** Every instance handed over in this run: each gets exactly one invocation. */
  readonly handedOver: Set<string>;
}

/** Hands one record over; a second record for the same instance is dropped. */
export type Deliver = (invocation: Invocation) => Promise<void>;

/** SSM's page size limit for the listings the runner makes. */
export const PAGE_SIZE = 50;

/** Wraps the caller's callback: one record per instance, whichever path produced it first, handed over one at a time. */
export function serialized(ctx: SsmContext, onInvocation: (invocation: Invocation) => Promise<void>): Deliver {
  let tail: Promise<void> = Promise.resolve();
  return (invocation) => {
    if (ctx.handedOver.has(invocation.InstanceId)) return Promise.resolve();
    ctx.handedOver.add(invocation.InstanceId);
    const run = tail.then(() => onInvocation(invocation));
    tail = run.catch(() => undefined);
    return run;
  };
}
