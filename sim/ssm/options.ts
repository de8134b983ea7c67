import type { SimComplianceStore } from '../ssm-compliance-items.ts';
import type { SimFleet, SimVm } from '../fleet.ts';
import type { SimFaultPlan, SimFaultRule } from '../fault-plan.ts';
import type { SimS3Writer } from '../s3-server.ts';

/** What a caller of the simulated SSM endpoint can choose: outcomes, timeline, limits and faults. */

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
