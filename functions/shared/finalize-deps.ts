import type { FinalizeAuditDeps } from '../../lib/use-cases/finalize-audit.ts';
import { makeFleetFactory, makeStorage } from './aws.ts';
import { FleetConfigSchema, MeshConfigSchema, parseConfig, StorageConfigSchema } from './config.ts';
import { makeMeshFactory } from './mesh.ts';

/** What the finalizing functions (the status event, the sweep) need, from the environment. */
export function finalizeDepsFromEnv(env: Record<string, string | undefined>): { audit: FinalizeAuditDeps; close(): void } {
  const storage = parseConfig(StorageConfigSchema, env);
  const fleetConfig = parseConfig(FleetConfigSchema, env);
  const meshConfig = parseConfig(MeshConfigSchema, env);
  const { store, registry } = makeStorage(storage);
  const fleets = makeFleetFactory(storage, fleetConfig);
  return {
    audit: { registry, store, fleet: (runId) => fleets.fleet(runId), mesh: makeMeshFactory(storage, meshConfig), clock: () => new Date() },
    close: () => fleets.close(),
  };
}
