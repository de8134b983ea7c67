import { z } from 'zod';
import type { InstanceInformation, Inventory, Invocation } from '../core/evidence-bundle.ts';
import type { RunStorage } from './audit-store.ts';

/**
 * The ports of the event-driven audit (DESIGN.md, "AWS deployment"): one function starts a run and
 * sends the diagnostics, later ones collect and finalize it. Between them the run lives in a registry.
 */

export const RUN_STATUSES = ['SENDING', 'COLLECTING', 'ANALYZING', 'DONE', 'FAILED'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
/** SENDING → COLLECTING → ANALYZING → DONE; FAILED from any state but DONE. */
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RunTriggerSchema = z.enum(['schedule', 'api']);
export type RunTrigger = z.infer<typeof RunTriggerSchema>;

const IsoTimeSchema = z.iso.datetime({ offset: true });

export const RunSummarySchema = z.object({
  vms: z.number().int().nonnegative(),
  compliant: z.number().int().nonnegative(),
  nonCompliant: z.number().int().nonnegative(),
  unknown: z.number().int().nonnegative(),
  /** Failing findings per severity. */
  failing: z.record(z.string(), z.number().int().nonnegative()),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

/** One audit run as the registry keeps it. */
export const AuditRunSchema = z.object({
  runId: z.string().min(1),
  status: RunStatusSchema,
  trigger: RunTriggerSchema,
  startedAt: IsoTimeSchema,
  /** After this, the run is finalized with whatever was collected. */
  deadline: IsoTimeSchema,
  finishedAt: IsoTimeSchema.optional(),
  commandIds: z.array(z.string().min(1)),
  /** Instances in the run's inventory. */
  expectedCount: z.number().int().nonnegative(),
  /** Invocations stored so far. */
  collectedCount: z.number().int().nonnegative(),
  /** Finalization attempts so far. */
  attempts: z.number().int().nonnegative(),
  summary: RunSummarySchema.optional(),
  /** Where the run's evidence and reports are, for people. */
  location: z.string().optional(),
  error: z.string().optional(),
});
export type AuditRun = z.infer<typeof AuditRunSchema>;

export interface NewRun {
  runId: string;
  trigger: RunTrigger;
  startedAt: string;
  deadline: string;
  location: string;
}

/** The right to finalize a run, held until `leaseUntil`; another claim may take over after it. */
export interface FinalizationClaim {
  token: string;
  attempt: number;
}

/** Where audit runs and their status live (DynamoDB in AWS). Every state change is conditional. */
export interface RunRegistry {
  /** Records a new run as SENDING; false when a run with this id exists already. */
  create(run: NewRun): Promise<boolean>;
  get(runId: string): Promise<AuditRun | undefined>;
  /** The run a command was sent for. */
  findRunByCommand(commandId: string): Promise<string | undefined>;
  /**
   * SENDING → COLLECTING, with the commands sent and the counts (and a new deadline when given); false when
   * the run was not SENDING.
   */
  markCollecting(runId: string, sent: { commandIds: string[]; expectedCount: number; collectedCount: number; deadline?: string }): Promise<boolean>;
  /** Raises the collected count (never lowers it). */
  recordProgress(runId: string, collectedCount: number): Promise<void>;
  /**
   * COLLECTING → ANALYZING, or ANALYZING whose lease ran out → ANALYZING: the caller alone finalizes
   * until `leaseUntil`. Undefined when another caller holds the run or it is no longer open.
   */
  claimFinalization(runId: string, now: Date, leaseUntil: Date): Promise<FinalizationClaim | undefined>;
  /** ANALYZING (held by `claim`) → COLLECTING with the error, so a later event or the sweep tries again. */
  releaseFinalization(runId: string, claim: FinalizationClaim, error: string): Promise<void>;
  /** ANALYZING (held by `claim`) → DONE; false when the claim was lost. */
  complete(runId: string, claim: FinalizationClaim, result: { finishedAt: string; collectedCount: number; summary: RunSummary }): Promise<boolean>;
  /** → FAILED from one of `from` (and held by `claim` when given); false when the run was in another state. */
  fail(runId: string, failure: { error: string; finishedAt: string }, from: readonly RunStatus[], claim?: FinalizationClaim): Promise<boolean>;
  /** Runs not DONE or FAILED whose deadline is at or before `now`, oldest deadline first. */
  listOverdue(now: Date, limit: number): Promise<AuditRun[]>;
  /**
   * Runs newest first (by start time), at most `limit`, after the one `cursor` points at (from an earlier
   * page's `next`). A cursor that is not one of ours throws RunCursorError.
   */
  list(page: { limit: number; cursor?: string }): Promise<{ runs: AuditRun[]; next?: string }>;
}

/** A paging cursor that no page of this registry handed out. */
export class RunCursorError extends Error {
  override name = 'RunCursorError';
}

/** A command sent to the fleet. */
export interface SentDiagnostics {
  commandId: string;
}

/** What one look at a run's commands found. */
export interface CollectOutcome {
  /** Instances whose invocation was handed over by this look. */
  collected: string[];
  /** Invocations not terminal yet. */
  pending: Array<{ commandId: string; instanceId: string; status: string; statusDetails: string | undefined }>;
}

/**
 * Reaches the VMs without waiting: sends the diagnostics, and later collects what ended. Completion is
 * signalled by events, so no call here waits for the fleet.
 */
export interface CommandFleet {
  /** The managed nodes in scope (all pages merged). */
  listInstances(): Promise<Inventory>;
  /** Sends the diagnostics; nodes that cannot be sent to are handed over at once as failed invocations. */
  sendDiagnostics(instances: InstanceInformation[], onInvocation: (invocation: Invocation) => Promise<void>): Promise<SentDiagnostics[]>;
  /** Lists the commands' invocations once and hands over each terminal one whose instance is not in `skip`. */
  collect(commandIds: string[], onInvocation: (invocation: Invocation) => Promise<void>, options: { skip?: ReadonlySet<string> }): Promise<CollectOutcome>;
}

/** A run stored earlier, opened again to add to it. */
export interface StoredRun extends RunStorage {
  /** The instances whose invocation is stored already. */
  storedInvocations(): Promise<Set<string>>;
}

/** The audit store as the event-driven audit uses it: runs are reopened, and reports read back. */
export interface StoredRuns {
  /** Reopens a run (it need not be complete); unlike AuditStore.openRun it does not refuse a stored run. */
  resumeRun(runId: string): Promise<StoredRun>;
  /** The stored report.json as text (untrusted: the caller validates it), or undefined when there is none. */
  readReportText(runId: string): Promise<string | undefined>;
}
