import type { AnalyzeOptions } from '../core/analyze.ts';
import type { Invocation } from '../core/evidence-bundle.ts';
import { namespaceOfOutput } from '../core/namespaces.ts';
import type { Report } from '../core/report.ts';
import type { MeshReader } from '../ports/mesh-reader.ts';
import type { CollectOutcome, CommandFleet, FinalizationClaim, RunRegistry, RunSummary, StoredRuns } from '../ports/run-registry.ts';
import { analyzeStoredBundle } from './analyze-bundle.ts';
import { finishEvidence } from './run-audit.ts';

export interface FinalizeAuditDeps {
  registry: RunRegistry;
  store: StoredRuns;
  /** The fleet as reached for one run (see startAudit). */
  fleet: (runId: string) => CommandFleet;
  /** The mesh, reached afresh for each finalization (an EKS token is minted per run). */
  mesh: () => Promise<MeshReader>;
  clock: () => Date;
}

export interface FinalizeAuditRequest {
  runId: string;
  analyze?: AnalyzeOptions;
  /** How long one finalization holds the run before another may take over (default 10 minutes). */
  leaseMs?: number;
  /** Finalizations that may fail before the run is FAILED (default 3). */
  maxAttempts?: number;
}

export type FinalizeAuditResult =
  | { kind: 'unknown-run'; runId: string }
  /** DONE or FAILED already: nothing was done. */
  | { kind: 'final'; runId: string; status: 'DONE' | 'FAILED' }
  /** Still sending its commands, and not overdue. */
  | { kind: 'sending'; runId: string }
  /** Invocations are still running and the deadline has not passed. */
  | { kind: 'collecting'; runId: string; collected: number; expected: number; pending: number }
  /** Another finalization holds the run. */
  | { kind: 'busy'; runId: string }
  | { kind: 'done'; runId: string; location: string; written: string[]; summary: RunSummary }
  | { kind: 'failed'; runId: string; error: string };

const DEFAULT_LEASE_MS = 10 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * Collects what ended of a run's invocations into its evidence (skipping those stored already); once
 * every invocation is terminal, or the run's deadline has passed, finalizes it: a record for each VM
 * still without one, the mesh's view, the final manifest, then the report from the bundle as stored, and
 * the run DONE. Safe to call again and concurrently: the registry lets one finalization through.
 */
export async function finalizeAudit(deps: FinalizeAuditDeps, request: FinalizeAuditRequest): Promise<FinalizeAuditResult> {
  const { runId } = request;
  const run = await deps.registry.get(runId);
  if (!run) return { kind: 'unknown-run', runId };
  if (run.status === 'DONE' || run.status === 'FAILED') return { kind: 'final', runId, status: run.status };
  const now = deps.clock();
  const overdue = now.getTime() >= Date.parse(run.deadline);
  if (run.status === 'SENDING') {
    if (!overdue) return { kind: 'sending', runId };
    const error = 'the audit did not finish sending its commands before its deadline';
    const failed = await deps.registry.fail(runId, { error, finishedAt: now.toISOString() }, ['SENDING']);
    return failed ? { kind: 'failed', runId, error } : { kind: 'busy', runId };
  }

  const storage = await deps.store.resumeRun(runId);
  const stored = await storage.storedInvocations();
  const fleet = deps.fleet(runId);
  const outcome = await fleet.collect(run.commandIds, (invocation) => storage.evidence.writeInvocation(invocation), { skip: stored });
  const collected = new Set([...stored, ...outcome.collected]).size;
  if (collected > run.collectedCount) await deps.registry.recordProgress(runId, collected);
  const complete = outcome.pending.length === 0 && collected >= run.expectedCount;
  if (!complete && !overdue) return { kind: 'collecting', runId, collected, expected: run.expectedCount, pending: outcome.pending.length };

  const claim = await deps.registry.claimFinalization(runId, now, new Date(now.getTime() + (request.leaseMs ?? DEFAULT_LEASE_MS)));
  if (!claim) return { kind: 'busy', runId };
  const maxAttempts = request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (claim.attempt > maxAttempts) return giveUp(deps, runId, claim, `finalization failed ${maxAttempts} times`);

  try {
    // Reached first: a mesh that cannot be reached fails the attempt before any VM is recorded as pending.
    const mesh = await deps.mesh();
    const bundle = await storage.evidence.readBundle();
    // Every VM of the inventory ends with one invocation, as in a blocking run.
    const invocations = new Map(Object.entries(bundle.invocations));
    for (const record of [...pendingRecords(outcome), ...missingRecords(bundle.inventory.InstanceInformationList.map((i) => i.InstanceId), run.commandIds)]) {
      if (invocations.has(record.InstanceId)) continue;
      await storage.evidence.writeInvocation(record);
      invocations.set(record.InstanceId, record);
    }
    const namespaces = [...invocations.values()].flatMap((i) => {
      const ns = i.StandardOutputContent ? namespaceOfOutput(i.StandardOutputContent) : undefined;
      return ns ? [ns] : [];
    });
    await finishEvidence(storage.evidence, mesh, bundle.manifest, namespaces, deps.clock);
    const result = await analyzeStoredBundle(storage.evidence, storage.reports, request.analyze);
    const summary = summaryOf(result.report);
    const completed = await deps.registry.complete(runId, claim, { finishedAt: deps.clock().toISOString(), collectedCount: invocations.size, summary });
    if (!completed) return { kind: 'busy', runId };
    return { kind: 'done', runId, location: storage.location, written: result.written, summary };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (claim.attempt >= maxAttempts) await deps.registry.fail(runId, { error: message, finishedAt: deps.clock().toISOString() }, ['ANALYZING'], claim);
    else await deps.registry.releaseFinalization(runId, claim, message);
    throw new Error(`finalizing audit run ${runId} failed: ${message}`, { cause: error });
  }
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

export interface SweepResult {
  /** Each overdue run looked at, with what finalizing it gave (or the error it threw). */
  runs: Array<{ runId: string; result: FinalizeAuditResult } | { runId: string; error: string }>;
}

/**
 * Finalizes the open runs whose deadline has passed (SSM's events are best effort, so some never come),
 * oldest first and at most `limit`; one run failing does not stop the others.
 */
export async function sweepAudits(deps: FinalizeAuditDeps, request: Omit<FinalizeAuditRequest, 'runId'> & { limit: number }): Promise<SweepResult> {
  const { limit, ...rest } = request;
  const overdue = await deps.registry.listOverdue(deps.clock(), limit);
  const runs: SweepResult['runs'] = [];
  for (const run of overdue) {
    try {
      runs.push({ runId: run.runId, result: await finalizeAudit(deps, { ...rest, runId: run.runId }) });
    } catch (error) {
      runs.push({ runId: run.runId, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { runs };
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

/** Invocations still running when the run was finalized, recorded as they stood. */
function pendingRecords(outcome: CollectOutcome): Invocation[] {
  return outcome.pending.map((p) => ({
    InstanceId: p.instanceId,
    CommandId: p.commandId,
    Status: p.status,
    StatusDetails: p.statusDetails ?? p.status,
    ResponseCode: -1,
    StandardOutputContent: '',
    StandardErrorContent: `the audit was finalized while this invocation was ${p.statusDetails ?? p.status}; SSM may still complete it`,
  }));
}

/** VMs of the inventory for which no command of the run listed an invocation. */
function missingRecords(instanceIds: string[], commandIds: string[]): Invocation[] {
  const commands =
    commandIds.length === 0 ? 'no command was sent' : commandIds.length <= 3 ? `command${commandIds.length === 1 ? '' : 's'} ${commandIds.join(', ')}` : `any of the run's ${commandIds.length} commands`;
  return instanceIds.map((instanceId) => ({
    InstanceId: instanceId,
    Status: 'Pending',
    StatusDetails: 'Pending',
    ResponseCode: -1,
    StandardOutputContent: '',
    StandardErrorContent: `the audit was finalized before an invocation was listed for this node (${commands})`,
  }));
}
