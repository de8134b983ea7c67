import { composeAwsSide, type AwsSide, type AwsSideOptions, type SsmTarget } from '../../lib/compose/aws-side.ts';
import { FleetConfigSchema, parseConfig, StorageConfigSchema, type FleetConfig, type MeshConfig, type StorageConfig } from './config.ts';

/** The functions' AWS side, composed by lib/compose from their configuration. */

/** The settings of the composition root, from the functions' configuration. */
function awsSideSettings(storage: StorageConfig, fleet: FleetConfig, mesh: MeshConfig | undefined) {
  return {
    region: storage.region,
    fleet: {
      bucket: storage.bucket,
      documentName: fleet.documentName,
      target: { kind: 'tag', ...fleet.tag } as SsmTarget,
      executionTimeoutSeconds: fleet.executionTimeoutSeconds,
      deliveryTimeoutSeconds: fleet.deliveryTimeoutSeconds,
    },
    storage: { bucket: storage.bucket, encryption: storage.encryption, table: storage.table, retentionDays: storage.retentionDays },
    ...(mesh
      ? {
          mesh: {
            kube: {
              kind: 'eks',
              clusterName: mesh.clusterName,
              region: storage.region,
              server: mesh.endpoint,
              caData: mesh.caData,
            } as const,
            istioNamespace: mesh.istioNamespace,
            ...(mesh.rootCaConfigMap ? { rootCaConfigMap: mesh.rootCaConfigMap } : {}),
          },
        }
      : {}),
  };
}

/** What every function that starts or finishes audits builds first: its configuration, storage and fleet runners. */
export function auditSideFromEnv(
  env: Record<string, string | undefined>,
  mesh?: { config: MeshConfig } & Required<AwsSideOptions>,
): {
  storage: StorageConfig;
  fleetConfig: FleetConfig;
  store: NonNullable<AwsSide['store']>;
  registry: NonNullable<AwsSide['registry']>;
  side: AwsSide;
} {
  const storage = parseConfig(StorageConfigSchema, env);
  const fleetConfig = parseConfig(FleetConfigSchema, env);
  const side = composeAwsSide(
    awsSideSettings(storage, fleetConfig, mesh?.config),
    mesh ? { composeMeshReader: mesh.composeMeshReader } : {},
  );
  return { storage, fleetConfig, store: side.store!, registry: side.registry!, side };
}
