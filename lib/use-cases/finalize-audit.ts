import type { AnalyzeOptions } from '../core/analyze.ts';
import type { Invocation } from '../core/evidence-bundle.ts';
import type { Report } from '../core/report.ts';
import type { AuditEvents } from '../ports/audit-events.ts';
import type { AuditMetrics } from '../ports/audit-metrics.ts';
import type { RunHistory } from '../ports/run-history.ts';
import { DIGEST_FILE, digestReport } from '../core/compliance/run-digest.ts';
import type { MeshReader } from '../ports/mesh-reader.ts';
import type { AuditRun, CommandFleet, FinalizationClaim, RunRegistry, RunSummary, StoredRun, StoredRuns } from '../ports/run-registry.ts';
import { analyzeStoredBundle } from './analyze-bundle.ts';
import { announce, publishAfterDone, type Announced } from './announce-run.ts';
import { BoundedWrites } from './bounded-writes.ts';
import { collectRun, WRITE_CONCURRENCY } from './collect-run.ts';
import { finishEvidence, type MeshSource } from './run-audit.ts';
import { countCallsFromNow, mergeCallCounts, totalCalls } from '../shared/call-counts.ts';
import { missingInvocationRecords } from '../core/invocation-records.ts';
import type { CompliancePublisher } from '../ports/compliance-publisher.ts';
import type { WaiversSource } from '../ports/waivers-source.ts';
import type { PublishComplianceResult } from './publish-compliance.ts';
import { messageOf } from '../shared/error-code.ts';

export interface FinalizeAuditDeps {
  registry: RunRegistry;
  store: StoredRuns;
  /** The fleet as reached for one run (see startAudit). */
  fleet: (runId: string) => CommandFleet;
  /**
   * The mesh, reached afresh for each finalization (an EKS token is minted per run); absent when the
   * deployment configures no cluster: the host checks run and the mesh controls are SKIP ("no cluster configured").
   */
  mesh?: () => Promise<MeshReader>;
  clock: () => Date;
  /** True for a failure worth trying again that must not count as an attempt (throttling, a 5xx, a timeout); none is by default. */
  isTransient?: (error: unknown) => boolean;
  /** Told of each run that reaches DONE or FAILED. */
  metrics?: AuditMetrics;
  /** Told when a run is DONE, and when it has failures its trigger's previous run did not (compared through `history`). */
  events?: AuditEvents;
  /** The stored runs' digests, to compare a finished run with the previous one. */
  history?: RunHistory;
  /**
   * The deployment's waivers, read at each finalization; a document that cannot be read or is malformed
   * fails the finalization with the entry named (and, attempts spent, the run), never "no waivers".
   */
  waivers?: WaiversSource;
  /** Where each VM's findings are published once the run is DONE (SSM Compliance); off when absent. */
  compliance?: CompliancePublisher;
  /**
   * The API calls made so far per service and operation by what these dependencies reach, as the composition
   * root counts them: a finalization records the run's calls in its manifest and its metric; none when absent.
   */
  apiCalls?: () => Record<string, number>;
}

/** A finalization that failed; `transient` when it was not counted as an attempt. */
export class FinalizationError extends Error {
  override name = 'FinalizationError';
  readonly transient: boolean;

  constructor(message: string, options: { cause: unknown; transient: boolean }) {
    super(message, { cause: options.cause });
    this.transient = options.transient;
  }
}

export interface FinalizeAuditRequest {
  runId: string;
  analyze?: AnalyzeOptions;
  /**
   * How long one finalization holds the run before another may take over (default 20 minutes). It must
   * outlast the function that finalizes (15 minutes, infra/functions.yml): a holder is then always dead
   * when another takes over, so two finalizations never write the same bundle.
   */
  leaseMs?: number;
  /** Finalizations that may fail (transient failures aside) before the run is FAILED (default 3). */
  maxAttempts?: number;
}

export type FinalizeAuditResult =
  | { kind: 'unknown-run'; runId: string }
  /** DONE or FAILED already: nothing was done (but to keep late arrivals of a DONE run beside its bundle). */
  | { kind: 'final'; runId: string; status: 'DONE' | 'FAILED' }
  /** Still sending its commands, and not overdue. */
  | { kind: 'sending'; runId: string }
  /** Invocations are still running and the deadline has not passed. */
  | { kind: 'collecting'; runId: string; collected: number; expected: number; pending: number }
  /** Another finalization holds the run. */
  | { kind: 'busy'; runId: string }
  | {
      kind: 'done';
      runId: string;
      location: string;
      written: string[];
      summary: RunSummary;
      startedAt: string;
      finishedAt: string;
      announced: Announced;
      /** What publishing the findings as SSM Compliance items gave, when it is on. */
      compliance?: PublishComplianceResult | { error: string };
      /** The API calls the run made, from its start to this finalization, as its manifest records them (when counted). */
      apiCalls?: Record<string, number>;
    }
  | { kind: 'failed'; runId: string; error: string };

/** Why a run of a deployment without a cluster reads no mesh: the reason its mesh controls are SKIP with. */
export const NO_CLUSTER_CONFIGURED = 'no cluster configured';

export const DEFAULT_LEASE_MS = 20 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * Collects what ended of a run's invocations into its evidence; once every invocation is terminal, or the
 * run's deadline has passed, finalizes it. Safe to call again and concurrently (docs/design.md, "AWS
 * deployment"):
 * - every record write is conditional and a record is only ever replaced by a more final one
 *   (record-finality.ts), so no interleaving of collectors and finalizations loses a result;
 * - the claim (COLLECTING → ANALYZING) seals the bundle: the finalization collects one last time, then
 *   re-records every targeted VM still without a terminal record (a fence: it changes each such object, so
 *   that a collector that looked at it before the seal can no longer replace it), and only then reads the
 *   bundle for the report. A collector that finds the run sealed keeps what it collected in `late/`, beside
 *   the bundle, so a written report is always re-derivable from its bundle.
 */
export async function finalizeAudit(deps: FinalizeAuditDeps, request: FinalizeAuditRequest): Promise<FinalizeAuditResult> {
  // The root's count lives as long as the function's container, and a sweep finalizes several runs in turn.
  const calls = countCallsFromNow(deps.apiCalls);
  let result: FinalizeAuditResult;
  try {
    result = await finalizeRun(deps, request, calls);
  } catch (error) {
    // A finalization given back to COLLECTING keeps what it called for the one that comes next.
    await keepCalls(deps, request.runId, calls()).catch(() => undefined);
    throw error;
  }
  if (result.kind === 'collecting' || result.kind === 'busy' || result.kind === 'sending') await keepCalls(deps, result.runId, calls());
  if (result.kind === 'failed') deps.metrics?.error('run-failed');
  if (result.kind === 'done' && 'error' in result.announced) deps.metrics?.error('events-not-published');
  if (result.kind === 'done') {
    const { summary } = result;
    const durationSeconds = Math.max(0, (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000);
    deps.metrics?.runFinished({
      runId: result.runId,
      vms: summary.vms,
      compliant: summary.compliant,
      nonCompliant: summary.nonCompliant,
      unknown: summary.unknown,
      durationSeconds,
      apiCalls: totalCalls(result.apiCalls ?? {}),
    });
  }
  return result;
}

/** Adds the calls of a finalization that did not finish the run to the run's, for the one that finishes it. */
async function keepCalls(deps: FinalizeAuditDeps, runId: string, calls: Record<string, number> | undefined): Promise<void> {
  if (calls) await deps.registry.addApiCalls(runId, calls);
}

async function finalizeRun(
  deps: FinalizeAuditDeps,
  request: FinalizeAuditRequest,
  calls: () => Record<string, number> | undefined,
): Promise<FinalizeAuditResult> {
  const { runId } = request;
  const run = await deps.registry.get(runId);
  if (!run) return { kind: 'unknown-run', runId };
  if (run.status === 'FAILED') return { kind: 'final', runId, status: run.status };
  if (run.status === 'DONE') {
    await collectRun(deps, run, await deps.store.resumeRun(runId), 'late');
    return { kind: 'final', runId, status: run.status };
  }
  const now = deps.clock();
  const overdue = now.getTime() >= Date.parse(run.deadline);
  if (run.status === 'SENDING') {
    if (!overdue) return { kind: 'sending', runId };
    const error = 'the audit did not finish sending its commands before its deadline';
    const failed = await deps.registry.fail(runId, { error, finishedAt: now.toISOString() }, ['SENDING']);
    return failed ? { kind: 'failed', runId, error } : { kind: 'busy', runId };
  }

  const storage = await deps.store.resumeRun(runId);
  if (run.status === 'COLLECTING') {
    // The status read above precedes every write of this pass: the seal argument rests on it.
    const pass = await collectRun(deps, run, storage, 'evidence');
    const collected = pass.terminal.size;
    if (collected > run.collectedCount) await deps.registry.recordProgress(runId, collected);
    const complete = pass.outcome.pending.length === 0 && collected >= run.expectedCount;
    if (!complete && !overdue)
      return { kind: 'collecting', runId, collected, expected: run.expectedCount, pending: pass.outcome.pending.length };
  }

  const claim = await deps.registry.claimFinalization(runId, now, new Date(now.getTime() + (request.leaseMs ?? DEFAULT_LEASE_MS)));
  if (!claim) {
    // Another finalization holds the run: what ended since it sealed the bundle is kept beside it.
    if (run.status === 'ANALYZING') await collectRun(deps, run, storage, 'late');
    return { kind: 'busy', runId };
  }
  const maxAttempts = request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (claim.attempt > maxAttempts) return giveUp(deps, runId, claim, `finalization failed ${maxAttempts} times`);
  return finalizeClaimed(deps, request, run, storage, claim, maxAttempts, calls);
}

async function finalizeClaimed(
  deps: FinalizeAuditDeps,
  request: FinalizeAuditRequest,
  run: AuditRun,
  storage: StoredRun,
  claim: FinalizationClaim,
  maxAttempts: number,
  calls: () => Record<string, number> | undefined,
): Promise<FinalizeAuditResult> {
  const { runId } = run;
  try {
    // Reached first: a mesh that cannot be reached fails the attempt before any VM is recorded as pending.
    const mesh: MeshSource = deps.mesh ? await deps.mesh() : { notRead: NO_CLUSTER_CONFIGURED };
    // Read before the run is sealed further: a malformed waivers document fails the attempt with nothing changed.
    const waivers = deps.waivers ? await deps.waivers.read(deps.clock()) : undefined;
    const [manifest, inventory] = await Promise.all([storage.readManifest(), storage.readInventory()]);
    // The last look, by the holder of the sealed run: what ended until now goes into the bundle.
    const pass = await collectRun(deps, run, storage, 'sealed', inventory);
    const targeted = inventory.InstanceInformationList.map((i) => i.InstanceId);
    const open = targeted.filter((id) => !pass.terminal.has(id));
    const openIds = new Set(open);
    // One record per VM still open (the rule the CLI's collector follows too): the first pending invocation
    // listed (a VM in two commands is listed twice), else a placeholder naming the run's commands.
    const fences = missingInvocationRecords({
      targeted: open,
      recorded: new Set(),
      pending: pass.outcome.pending.filter((p) => openIds.has(p.instanceId)),
      commands: run.commandIds.map((commandId) => ({ commandId, ended: false })),
      moment: 'finalized',
    }).map((r) => numbered(r, claim.claim));
    if (fences.length > 0) {
      // Named as provisional before they are written, so that collectors never take them for terminal ones.
      await storage.writeProvisional(new Set([...pass.provisional, ...openIds]));
      const writes = new BoundedWrites(WRITE_CONCURRENCY);
      for (const record of fences) await writes.add(async () => void (await storage.writeRecord(record, { fence: true })));
      await writes.drain();
    }
    const recorded = await deps.registry.get(runId);
    // The run's calls: those its start and earlier collection passes recorded, and this finalization's until now.
    let apiCalls: Record<string, number> | undefined;
    await finishEvidence(storage.evidence, mesh, manifest, recorded?.namespaces ?? [], deps.clock, () => {
      const own = calls();
      apiCalls = own ? mergeCallCounts(recorded?.apiCalls ?? {}, own) : undefined;
      return apiCalls ? { apiCalls } : {};
    });
    const result = await analyzeStoredBundle(storage.evidence, storage.reports, { ...request.analyze, ...(waivers ? { waivers } : {}) });
    const summary = summaryOf(result.report);
    // Kept beside the report: the next run's regressions and compliance over time read it, not the whole report.
    const digest = digestReport(result.report);
    await storage.reports.writeArtifact({ name: DIGEST_FILE, contentType: 'application/json', body: JSON.stringify(digest) });
    const collectedCount = new Set([...pass.stored, ...pass.terminal, ...openIds]).size;
    const finishedAt = deps.clock().toISOString();
    const completed = await deps.registry.complete(runId, claim, { finishedAt, collectedCount, summary });
    if (!completed) return { kind: 'busy', runId };
    const report = { location: storage.location, files: result.written };
    const announced = await announce(deps, { run, finishedAt, summary, report, digest });
    const compliance = deps.compliance ? await publishAfterDone(deps.compliance, result.report) : undefined;
    return {
      kind: 'done',
      runId,
      location: storage.location,
      written: result.written,
      summary,
      startedAt: run.startedAt,
      finishedAt,
      announced,
      ...(compliance ? { compliance } : {}),
      ...(apiCalls ? { apiCalls } : {}),
    };
  } catch (error) {
    const message = messageOf(error);
    const transient = deps.isTransient?.(error) ?? false;
    if (!transient && claim.attempt >= maxAttempts)
      await deps.registry.fail(runId, { error: message, finishedAt: deps.clock().toISOString() }, ['ANALYZING'], claim);
    else await deps.registry.releaseFinalization(runId, claim, message, { transient });
    throw new FinalizationError(`finalizing audit run ${runId} failed${transient ? ' (transient, not counted)' : ''}: ${message}`, {
      cause: error,
      transient,
    });
  }
}

/** A finalization's record names the finalization: each one's text differs, so each fence changes the stored object. */
function numbered(record: Invocation, claim: number): Invocation {
  return { ...record, StandardErrorContent: `${record.StandardErrorContent ?? ''} (finalization ${claim})` };
}

/** Finalizes the run a command was sent for, as SSM's status event for the command asks. */
export async function finalizeCommand(
  deps: FinalizeAuditDeps,
  request: Omit<FinalizeAuditRequest, 'runId'> & { commandId: string },
): Promise<FinalizeAuditResult | { kind: 'unknown-command'; commandId: string }> {
  const { commandId, ...rest } = request;
  const runId = await deps.registry.findRunByCommand(commandId);
  if (runId === undefined) return { kind: 'unknown-command', commandId };
  return finalizeAudit(deps, { ...rest, runId });
}

async function giveUp(deps: FinalizeAuditDeps, runId: string, claim: FinalizationClaim, error: string): Promise<FinalizeAuditResult> {
  const failed = await deps.registry.fail(runId, { error, finishedAt: deps.clock().toISOString() }, ['ANALYZING'], claim);
  return failed ? { kind: 'failed', runId, error } : { kind: 'busy', runId };
}

/** The counts the registry keeps of a finished run. */
export function summaryOf(report: Report): RunSummary {
  const { vms, compliant, nonCompliant, unknown, bySeverity } = report.summary;
  return { vms, compliant, nonCompliant, unknown, failing: { ...bySeverity } };
}
