import type { AuditMetrics } from '../../lib/ports/audit-metrics.ts';
import type { FinalizeAuditDeps } from '../../lib/use-cases/finalize-audit.ts';
import { isTransientError } from '../../lib/compose/aws-side.ts';
import { composeMeshReader } from '../../lib/compose/mesh-reader.ts';
import { composeReportingSide } from '../../lib/compose/reporting-side.ts';
import { auditSideFromEnv } from './aws.ts';
import { parseConfig, parseMeshConfig, ReportingConfigSchema } from './config.ts';

/** What the finalizing functions (the status event, the sweep) need, from the environment. */
export function finalizeDepsFromEnv(
  env: Record<string, string | undefined>,
  metrics?: AuditMetrics,
): { audit: FinalizeAuditDeps; close(): void } {
  const meshConfig = parseMeshConfig(env);
  const { storage, store, registry, side } = auditSideFromEnv(env, meshConfig ? { config: meshConfig, composeMeshReader } : undefined);
  const reporting = parseConfig(ReportingConfigSchema, env);
  const told = composeReportingSide({ region: storage.region });
  return {
    audit: {
      registry,
      store,
      fleet: (runId) => side.fleet(runId),
      // No cluster configured: the finalization records why and the mesh controls are SKIP, not ERROR.
      ...(side.mesh ? { mesh: side.mesh } : {}),
      clock: () => new Date(),
      isTransient: isTransientError,
      ...(metrics ? { metrics } : {}),
      // The calls counted by the composition root: the manifest and the ApiCalls metric record the run's.
      apiCalls: () => side.callCounts(),
      // A finished run is announced on the account's default bus, compared with its trigger's previous run.
      events: told.events(),
      history: told.history(storage.bucket),
      ...(reporting.waiversKey ? { waivers: told.waivers(storage.bucket, reporting.waiversKey) } : {}),
      // Each VM's findings where its owners look in the console (Custom:IstioMeshAudit); on unless the stage turns it off.
      ...(reporting.ssmCompliance ? { compliance: told.compliance() } : {}),
    },
    close: () => side.close(),
  };
}
