import type { ClusterEvidence } from '../core/evidence-bundle.ts';

/**
 * Reads what the mesh believes: WorkloadEntries, WorkloadGroups, istiod pods, every istiod's syncz, root CAs, and the
 * Services and ServiceEntries that select entries or front istiod.
 */
export interface MeshReader {
  /** The raw cluster evidence; a part that could not be read is left out rather than failing the whole read. */
  readCluster(namespaces: string[]): Promise<ClusterEvidence>;
}
