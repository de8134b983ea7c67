import { z } from 'zod';
import type { InstanceInformation, Inventory, Invocation, Manifest } from '../core/evidence-bundle.ts';
import type { RunStorage } from './audit-store.ts';
import { BadInputError } from '../shared/errors.ts';

/**
 * The ports of the event-driven audit (docs/design.md, "AWS deployment"): one function starts a run and
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
  /** Finalization attempts so far that did not end in a transient failure (a throttled or unavailable service). */
  attempts: z.number().int().nonnegative(),
  /** Finalizations ever claimed (transient failures included): numbers each finalization. */
  claims: z.number().int().nonnegative().optional(),
  /**
   * The namespaces of the VMs collected so far, recorded before their invocations are stored, so that the
   * finalization reads the mesh for them without reading every invocation back.
   */
  namespaces: z
    .union([z.set(z.string()), z.array(z.string())])
    .transform((v) => [...v].sort())
    .optional(),
  summary: RunSummarySchema.optional(),
  /** Where the run's evidence and reports are, for people. */
  location: z.string().optional(),
  /**
   * The API calls made for the run so far per service and operation, by its start and by the collection passes
   * that did not finalize it: the finalization adds its own and records the sum in the manifest.
   */
  apiCalls: z.record(z.string(), z.number().int().nonnegative()).optional(),
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
  /** Attempts counted so far, this one included. */
  attempt: number;
  /** This claim's number among all claims of the run (never reused, unlike `attempt`). */
  claim: number;
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
  markCollecting(
    runId: string,
    sent: { commandIds: string[]; expectedCount: number; collectedCount: number; deadline?: string },
  ): Promise<boolean>;
  /** Raises the collected count (never lowers it). */
  recordProgress(runId: string, collectedCount: number): Promise<void>;
  /**
   * COLLECTING → ANALYZING, or ANALYZING whose lease ran out → ANALYZING: the caller alone finalizes
   * until `leaseUntil`. Undefined when another caller holds the run or it is no longer open.
   */
  claimFinalization(runId: string, now: Date, leaseUntil: Date): Promise<FinalizationClaim | undefined>;
  /**
   * ANALYZING (held by `claim`) → COLLECTING with the error, so a later event or the sweep tries again. A
   * transient failure (throttling, a 5xx, a timeout) gives the attempt back: it does not count towards the
   * run's limit.
   */
  releaseFinalization(runId: string, claim: FinalizationClaim, error: string, options?: { transient?: boolean }): Promise<void>;
  /** Adds API calls made for the run to those it has; concurrent additions all count, and adding none does nothing. */
  addApiCalls(runId: string, calls: Readonly<Record<string, number>>): Promise<void>;
  /** Adds namespaces to the run's (a set: adding one twice is harmless). */
  recordNamespaces(runId: string, namespaces: readonly string[]): Promise<void>;
  /** ANALYZING (held by `claim`) → DONE; false when the claim was lost. */
  complete(
    runId: string,
    claim: FinalizationClaim,
    result: { finishedAt: string; collectedCount: number; summary: RunSummary },
  ): Promise<boolean>;
  /** → FAILED from one of `from` (and held by `claim` when given); false when the run was in another state. */
  fail(
    runId: string,
    failure: { error: string; finishedAt: string },
    from: readonly RunStatus[],
    claim?: FinalizationClaim,
  ): Promise<boolean>;
  /** Runs not DONE or FAILED whose deadline is at or before `now`, oldest deadline first. */
  listOverdue(now: Date, limit: number): Promise<AuditRun[]>;
  /**
   * Runs newest first (by start time), at most `limit`, after the one `cursor` points at (from an earlier
   * page's `next`). A cursor that is not one of ours throws RunCursorError.
   */
  list(page: { limit: number; cursor?: string }): Promise<{ runs: AuditRun[]; next?: string }>;
}

/** A paging cursor that no page of this registry handed out. */
export class RunCursorError extends BadInputError {
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
  collect(
    commandIds: string[],
    onInvocation: (invocation: Invocation) => Promise<void>,
    options: { skip?: ReadonlySet<string> },
  ): Promise<CollectOutcome>;
  /** The API calls made so far per service and operation, when the fleet counts them. */
  callCounts?(): Record<string, number>;
}

/** What a conditional write of an invocation record did. */
export type RecordWrite =
  /** The record is stored. */
  | 'written'
  /** A record as final or more is stored already; it was kept. */
  | 'kept'
  /** A less final record is stored, but the run was sealed meanwhile: nothing was written. */
  | 'sealed';

export interface RecordWriteOptions {
  /**
   * Asked after a less final stored record was seen and before it is replaced: false when the run has been
   * sealed for its report since, so that this writer must keep its record beside the bundle instead.
   */
  open?: () => Promise<boolean>;
  /** A finalization's fence: also replaces a non-terminal record of the same finality (see mayFenceRecord). */
  fence?: boolean;
}

/** A run stored earlier, opened again to add to it. */
export interface StoredRun extends RunStorage {
  /** The instances with a record in the bundle (of any finality). */
  storedInvocations(): Promise<Set<string>>;
  /** The manifest and the inventory, without reading the rest of the bundle. */
  readManifest(): Promise<Manifest>;
  readInventory(): Promise<Inventory>;
  /** Stores an invocation record unless one as final or more is stored: a conditional write, safe against any other writer. */
  writeRecord(invocation: Invocation, options?: RecordWriteOptions): Promise<RecordWrite>;
  /** Keeps an invocation that arrived after the run was sealed for its report beside the bundle (`late/`), never in it. */
  writeLate(invocation: Invocation): Promise<RecordWrite>;
  /** The instances with a record in `late/`. */
  storedLate(): Promise<Set<string>>;
  /**
   * The instances a finalization recorded as not terminal (placeholder or in progress); every other stored
   * record is terminal. Written by the finalization that holds the run, before its records.
   */
  readProvisional(): Promise<Set<string>>;
  writeProvisional(instanceIds: ReadonlySet<string>): Promise<void>;
}

/** The audit store as the event-driven audit uses it: runs are reopened, and reports read back. */
export interface StoredRuns {
  /** Reopens a run (it need not be complete); unlike AuditStore.openRun it does not refuse a stored run. */
  resumeRun(runId: string): Promise<StoredRun>;
  /** The stored report.json as text (untrusted: the caller validates it), or undefined when there is none. */
  readReportText(runId: string): Promise<string | undefined>;
}
