import type { AuditStore } from '../ports/audit-store.ts';
import type { CommandFleet, RunRegistry, RunTrigger } from '../ports/run-registry.ts';
import { startManifest } from './run-audit.ts';
import { countCallsFromNow } from '../shared/call-counts.ts';
import { messageOf } from '../shared/error-code.ts';

export interface StartAuditDeps {
  registry: RunRegistry;
  store: AuditStore;
  /** The fleet as reached for one run: its commands name the run and put their output under it. */
  fleet: (runId: string) => CommandFleet;
  clock: () => Date;
  /**
   * The API calls made so far per service and operation by what these dependencies reach, as the composition
   * root counts them: the start's are kept with the run, for its finalization to record in the manifest.
   */
  apiCalls?: () => Record<string, number>;
}

export interface StartAuditRequest {
  runId: string;
  trigger: RunTrigger;
  toolVersion: string;
  targets?: unknown;
  /** How long the run may collect before it is finalized with whatever it has. */
  collectForMs: number;
}

export type StartAuditResult =
  | { kind: 'started'; runId: string; location: string; commandIds: string[]; expected: number; collected: number; deadline: string }
  /** A run with this id is registered already; nothing was done. */
  | { kind: 'duplicate'; runId: string };

/**
 * Starts an event-driven audit: inventory → manifest and inventory stored → the diagnostics sent, and
 * the run registered as COLLECTING with its command ids. Completion comes later, from SSM's status
 * events or the sweep (finalizeAudit). A failure after registration leaves the run FAILED with the error.
 */
export async function startAudit(deps: StartAuditDeps, request: StartAuditRequest): Promise<StartAuditResult> {
  // A trigger delivered twice (schedules and events are at-least-once) names the same run: start it once.
  if (await deps.registry.get(request.runId)) return { kind: 'duplicate', runId: request.runId };
  const callsOfStart = countCallsFromNow(deps.apiCalls);
  const startedAt = deps.clock();
  const deadline = new Date(startedAt.getTime() + request.collectForMs).toISOString();
  const run = await deps.store.openRun(request.runId);
  const created = await deps.registry.create({
    runId: request.runId,
    trigger: request.trigger,
    startedAt: startedAt.toISOString(),
    deadline,
    location: run.location,
  });
  if (!created) return { kind: 'duplicate', runId: request.runId };

  try {
    await run.evidence.writeManifest(startManifest({ ...request, source: 'aws' }, startedAt));
    const fleet = deps.fleet(request.runId);
    const inventory = await fleet.listInstances();
    await run.evidence.writeInventory(inventory);
    let collected = 0;
    const sent = await fleet.sendDiagnostics(inventory.InstanceInformationList, async (invocation) => {
      await run.evidence.writeInvocation(invocation);
      collected++;
    });
    const commandIds = sent.map((s) => s.commandId);
    const expected = inventory.InstanceInformationList.length;
    // With no command out there is no event to wait for: the run is due for the sweep at once.
    const due = commandIds.length === 0 ? deps.clock().toISOString() : deadline;
    // Kept with the run before it is COLLECTING, so that no finalization can record the run's calls without them.
    const calls = callsOfStart();
    if (calls) await deps.registry.addApiCalls(request.runId, calls);
    const marked = await deps.registry.markCollecting(request.runId, {
      commandIds,
      expectedCount: expected,
      collectedCount: collected,
      ...(commandIds.length === 0 ? { deadline: due } : {}),
    });
    if (!marked) throw new Error('the run left SENDING while its commands were being sent');
    return { kind: 'started', runId: request.runId, location: run.location, commandIds, expected, collected, deadline: due };
  } catch (error) {
    const message = messageOf(error);
    await deps.registry.fail(request.runId, { error: message, finishedAt: deps.clock().toISOString() }, ['SENDING']);
    throw new Error(`starting audit run ${request.runId} failed: ${message}`, { cause: error });
  }
}
