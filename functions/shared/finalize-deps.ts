import type { AuditMetrics } from '../../lib/ports/audit-metrics.ts';
import type { FinalizeAuditDeps } from '../../lib/use-cases/finalize-audit.ts';
import { EventBridgeAuditEvents } from '../../lib/adapters/eventbridge-audit-events.ts';
import { S3RunHistory } from '../../lib/adapters/s3-run-history.ts';
import { S3WaiversSource } from '../../lib/adapters/s3-waivers-source.ts';
import { SsmCompliancePublisher } from '../../lib/adapters/ssm-compliance-publisher.ts';
import { isTransientError } from '../../lib/adapters/transient-error.ts';
import { auditSideFromEnv } from './aws.ts';
import { parseConfig, parseMeshConfig, ReportingConfigSchema } from './config.ts';
import { makeMeshFactory } from './mesh.ts';

/** What the finalizing functions (the status event, the sweep) need, from the environment. */
export function finalizeDepsFromEnv(
  env: Record<string, string | undefined>,
  metrics?: AuditMetrics,
): { audit: FinalizeAuditDeps; close(): void } {
  const { storage, store, registry, fleets } = auditSideFromEnv(env);
  const meshConfig = parseMeshConfig(env);
  const reporting = parseConfig(ReportingConfigSchema, env);
  return {
    audit: {
      registry,
      store,
      fleet: (runId) => fleets.fleet(runId),
      // No cluster configured: the finalization records why and the mesh controls are SKIP, not ERROR.
      ...(meshConfig ? { mesh: makeMeshFactory(storage, meshConfig) } : {}),
      clock: () => new Date(),
      isTransient: isTransientError,
      ...(metrics ? { metrics } : {}),
      // A finished run is announced on the account's default bus, compared with its trigger's previous run.
      events: new EventBridgeAuditEvents({ clientConfig: { region: storage.region } }),
      history: new S3RunHistory({ clientConfig: { region: storage.region }, bucket: storage.bucket }),
      ...(reporting.waiversKey
        ? { waivers: new S3WaiversSource({ bucket: storage.bucket, key: reporting.waiversKey, clientConfig: { region: storage.region } }) }
        : {}),
      // Each VM's findings where its owners look in the console (Custom:IstioMeshAudit); on unless the stage turns it off.
      ...(reporting.ssmCompliance
        ? { compliance: new SsmCompliancePublisher(undefined, { clientConfig: { region: storage.region } }) }
        : {}),
    },
    close: () => fleets.close(),
  };
}
