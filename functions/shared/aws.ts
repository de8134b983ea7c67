import { DynamoRunRegistry } from '../../lib/adapters/dynamo-run-store.ts';
import { S3AuditStore } from '../../lib/adapters/s3-audit-store.ts';
import { SsmFleetRunner, type SsmTarget } from '../../lib/adapters/ssm-fleet-runner.ts';
import type { CommandFleet } from '../../lib/ports/run-registry.ts';
import { FleetConfigSchema, parseConfig, StorageConfigSchema, type FleetConfig, type StorageConfig } from './config.ts';
import { ssmOutputPrefix } from '../../lib/shared/identifiers.ts';

/** The composition root of the functions' AWS side: the SSM, S3 and DynamoDB adapters, made from configuration. */

/** The audit store (S3) and the run registry (DynamoDB). */
export function makeStorage(config: StorageConfig): { store: S3AuditStore; registry: DynamoRunRegistry } {
  return {
    store: new S3AuditStore({ bucket: config.bucket, encryption: config.encryption, clientConfig: { region: config.region } }),
    registry: new DynamoRunRegistry({
      tableName: config.table,
      retentionDays: config.retentionDays,
      clientConfig: { region: config.region },
    }),
  };
}

/** What every function that starts or finishes audits builds first: its configuration, storage and fleet runners. */
export function auditSideFromEnv(env: Record<string, string | undefined>): {
  storage: StorageConfig;
  fleetConfig: FleetConfig;
  store: S3AuditStore;
  registry: DynamoRunRegistry;
  fleets: FleetFactory;
} {
  const storage = parseConfig(StorageConfigSchema, env);
  const fleetConfig = parseConfig(FleetConfigSchema, env);
  return { storage, fleetConfig, ...makeStorage(storage), fleets: makeFleetFactory(storage, fleetConfig) };
}

/** Reaches the fleet for one run at a time; `close` ends the connections of every runner made. */
export interface FleetFactory {
  fleet(runId: string, target?: SsmTarget): CommandFleet;
  close(): void;
}

/** Runners for the run's commands: named by the run in their Comment, output under the run's prefix. */
export function makeFleetFactory(storage: StorageConfig, fleet: FleetConfig): FleetFactory {
  const made: SsmFleetRunner[] = [];
  return {
    fleet(runId: string, target?: SsmTarget): CommandFleet {
      const runner = new SsmFleetRunner({
        region: storage.region,
        bucket: storage.bucket,
        keyPrefix: ssmOutputPrefix(runId),
        comment: `fleet-audit run ${runId}`,
        documentName: fleet.documentName,
        target: target ?? { kind: 'tag', ...fleet.tag },
        executionTimeoutSeconds: fleet.executionTimeoutSeconds,
        deliveryTimeoutSeconds: fleet.deliveryTimeoutSeconds,
      });
      made.push(runner);
      return runner;
    },
    close(): void {
      for (const runner of made.splice(0)) runner.destroy();
    },
  };
}
