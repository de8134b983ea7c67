/**
 * Stores a simulated fleet's evidence bundle the way a run stores it: through the local store writer, part
 * by part, so that the benchmarks read back exactly what `fleet-audit analyze` would read.
 */
import { LocalBundle } from '../lib/adapters/local-audit-store.ts';
import type { Manifest } from '../lib/core/evidence-bundle.ts';
import type { EvidenceWriter } from '../lib/ports/audit-store.ts';
import { simClusterEvidence, simInstanceInformation, simInvocation } from '../sim/cluster.ts';
import { buildSimFleetAsync, type SimFleet } from '../sim/fleet.ts';

/** One fixed instant, so that every size is the same fleet grown, and two runs store the same bytes. */
export const BENCH_NOW = new Date('2026-11-26T06:00:00.000Z');
const WRITES_AT_ONCE = 16;

export async function benchFleet(vms: number, seed = 1): Promise<SimFleet> {
  return buildSimFleetAsync({ vms, seed, now: BENCH_NOW });
}

export interface SimEvidenceOptions {
  /**
   * A finished bundle (the default) has its cluster evidence and finish time; an open one is a run still
   * collecting, whose finalization reads the mesh and finishes the manifest.
   */
  finished?: boolean;
  source?: Manifest['source'];
}

/** Writes the fleet's manifest, inventory, one invocation per VM and, for a finished bundle, the cluster evidence. */
export async function writeSimEvidence(
  writer: EvidenceWriter,
  fleet: SimFleet,
  runId: string,
  options: SimEvidenceOptions = {},
): Promise<void> {
  const finished = options.finished ?? true;
  const at = fleet.now.toISOString();
  await writer.writeManifest({
    bundleVersion: 1,
    runId,
    startedAt: at,
    ...(finished ? { finishedAt: at } : {}),
    source: options.source ?? 'sim',
  });
  await writer.writeInventory({ InstanceInformationList: fleet.vms.map((vm) => simInstanceInformation(fleet, vm)) });
  let next = 0;
  // Rendered one at a time as written: the whole fleet's output is never held at once.
  await Promise.all(
    Array.from({ length: WRITES_AT_ONCE }, async () => {
      while (next < fleet.vms.length) await writer.writeInvocation(simInvocation(fleet, fleet.vms[next++]!));
    }),
  );
  if (finished) await writer.writeCluster(simClusterEvidence(fleet));
}

/** Stores the fleet's bundle in `dir` with the local store writer. */
export async function storeSimBundle(dir: string, fleet: SimFleet, runId = 'bench'): Promise<void> {
  await writeSimEvidence(new LocalBundle(dir), fleet, runId);
}
