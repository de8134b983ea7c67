import type { AnalyzeOptions } from '../core/analyze.ts';
import type { BundleSource } from '../core/evidence-bundle.ts';
import type { AuditStore } from '../ports/audit-store.ts';
import type { FleetRunner } from '../ports/fleet-runner.ts';
import type { MeshReader } from '../ports/mesh-reader.ts';
import type { RunRegistry } from '../ports/run-registry.ts';
import { summaryOf } from './finalize-audit.ts';
import { runAudit } from './run-audit.ts';
import { messageOf } from '../shared/error-code.ts';

export interface BackgroundAuditDeps {
  registry: RunRegistry;
  store: AuditStore;
  clock: () => Date;
}

export interface BackgroundAuditRequest {
  runId: string;
  fleet: FleetRunner;
  mesh: MeshReader;
  source: BundleSource;
  toolVersion: string;
  targets?: unknown;
  analyze?: AnalyzeOptions;
  /** How long the run may take before the registry counts it overdue. */
  deadlineMs: number;
}

/**
 * Starts a blocking audit (runAudit) in the background and walks the registry through the same states as
 * the event-driven one (SENDING → COLLECTING → ANALYZING → DONE, or FAILED with the error), so that a local
 * API answers exactly as the deployed one does. Resolves once the run is registered; `done` settles when
 * the run has.
 */
export async function startBackgroundAudit(
  deps: BackgroundAuditDeps,
  request: BackgroundAuditRequest,
): Promise<{ started: boolean; done: Promise<void> }> {
  const startedAt = deps.clock();
  const created = await deps.registry.create({
    runId: request.runId,
    trigger: 'api',
    startedAt: startedAt.toISOString(),
    deadline: new Date(startedAt.getTime() + request.deadlineMs).toISOString(),
    location: request.runId,
  });
  if (!created) return { started: false, done: Promise.resolve() };
  const inventory = await request.fleet.listInstances();
  await deps.registry.markCollecting(request.runId, {
    commandIds: [],
    expectedCount: inventory.InstanceInformationList.length,
    collectedCount: 0,
  });
  const done = (async () => {
    try {
      const result = await runAudit(
        {
          fleet: { listInstances: async () => inventory, runDiagnostics: (i, on) => request.fleet.runDiagnostics(i, on) },
          mesh: request.mesh,
          store: deps.store,
          clock: deps.clock,
        },
        {
          runId: request.runId,
          source: request.source,
          toolVersion: request.toolVersion,
          targets: request.targets,
          ...(request.analyze ? { analyze: request.analyze } : {}),
        },
      );
      const claim = await deps.registry.claimFinalization(
        request.runId,
        deps.clock(),
        new Date(deps.clock().getTime() + request.deadlineMs),
      );
      if (claim)
        await deps.registry.complete(request.runId, claim, {
          finishedAt: result.report.finishedAt,
          collectedCount: result.report.summary.vms,
          summary: summaryOf(result.report),
        });
    } catch (error) {
      await deps.registry.fail(request.runId, { error: messageOf(error), finishedAt: deps.clock().toISOString() }, [
        'SENDING',
        'COLLECTING',
        'ANALYZING',
      ]);
    }
  })();
  return { started: true, done };
}
