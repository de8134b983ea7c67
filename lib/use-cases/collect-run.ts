import type { Inventory } from '../core/evidence-bundle.ts';
import { namespaceOfOutput } from '../core/namespaces.ts';
import type { AuditRun, CollectOutcome, CommandFleet, RunRegistry, StoredRun } from '../ports/run-registry.ts';
import { BoundedWrites } from './bounded-writes.ts';

/** Evidence objects written at once. */
export const WRITE_CONCURRENCY = 16;

/** What a collection pass reaches: the run's commands on the fleet, and the registry for the run's status and namespaces. */
export interface CollectDeps {
  registry: RunRegistry;
  fleet: (runId: string) => CommandFleet;
}

/**
 * Where a collection pass stores what it collects: `evidence` while the run is open (a record that meets
 * a sealed run goes to `late/` instead), `sealed` by the finalization holding the run, `late` once the run
 * is sealed by another.
 */
export type CollectMode = 'evidence' | 'sealed' | 'late';

export interface CollectPass {
  outcome: CollectOutcome;
  /** Instances of the bundle with a terminal record (as far as this pass knows). */
  terminal: Set<string>;
  /** Instances with a record in the bundle when the pass began, and those named provisional then. */
  stored: Set<string>;
  provisional: Set<string>;
}

/**
 * Lists the run's commands once and stores each terminal invocation not stored as terminal yet. `inventory` is
 * the run's, when the caller has read it already (it never changes once the run is started).
 */
export async function collectRun(
  deps: CollectDeps,
  run: AuditRun,
  storage: StoredRun,
  mode: CollectMode,
  inventory?: Inventory,
): Promise<CollectPass> {
  const [stored, provisional, late, targeted] = await Promise.all([
    storage.storedInvocations(),
    storage.readProvisional(),
    mode === 'late' ? storage.storedLate() : Promise.resolve(new Set<string>()),
    mode === 'late'
      ? Promise.resolve(undefined)
      : (inventory ? Promise.resolve(inventory) : storage.readInventory()).then(
          (read) => new Set(read.InstanceInformationList.map((i) => i.InstanceId)),
        ),
  ]);
  // Every stored record not named provisional is terminal: only finalizations write others, and they name them first.
  const terminal = new Set([...stored].filter((id) => !provisional.has(id)));
  const skip = mode === 'late' ? new Set([...terminal, ...late]) : terminal;
  const namespaces = new Set(run.namespaces ?? []);
  const isOpen = async (): Promise<boolean> => (await deps.registry.get(run.runId))?.status === 'COLLECTING';
  const writes = new BoundedWrites(WRITE_CONCURRENCY);
  const outcome = await deps.fleet(run.runId).collect(
    run.commandIds,
    async (invocation) => {
      // A node outside the run's inventory is no VM of this report: kept beside it, never inside it.
      if (mode === 'late' || !targeted?.has(invocation.InstanceId)) {
        await writes.add(async () => void (await storage.writeLate(invocation)));
        return;
      }
      // Recorded before the invocation is stored: a collector killed in between leaves one namespace too many, never one too few.
      const namespace = invocation.StandardOutputContent ? namespaceOfOutput(invocation.StandardOutputContent) : undefined;
      if (namespace !== undefined && !namespaces.has(namespace)) {
        await deps.registry.recordNamespaces(run.runId, [namespace]);
        namespaces.add(namespace);
      }
      await writes.add(async () => {
        const written = await storage.writeRecord(invocation, mode === 'evidence' ? { open: isOpen } : {});
        if (written === 'sealed') await storage.writeLate(invocation);
        else terminal.add(invocation.InstanceId);
      });
    },
    { skip },
  );
  await writes.drain();
  return { outcome, terminal, stored, provisional };
}
