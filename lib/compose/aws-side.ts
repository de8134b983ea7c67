import { DynamoRunRegistry } from '../adapters/dynamo-run-store.ts';
import type { S3Encryption } from '../adapters/s3-audit-store.ts';
import { S3AuditStore } from '../adapters/s3-audit-store.ts';
import { SsmFleetRunner, type SsmFleetRunnerOptions, type SsmTarget } from '../adapters/ssm-fleet-runner.ts';
import { ssmOutputPrefix } from '../shared/identifiers.ts';
import { mergeCallCounts } from '../shared/call-counts.ts';
import type { composeMeshReader, CountedMeshReader, MeshReaderSettings } from './mesh-reader.ts';

export { AwsCallError, type SsmTarget } from '../adapters/ssm-fleet-runner.ts';
export { RUN_TABLE } from '../adapters/dynamo-run-store.ts';
export { isTransientError } from '../adapters/transient-error.ts';
export type { S3Encryption };

/** The one settings object the AWS side is composed from, whether the CLI or the functions run it. */
export interface AwsSideSettings {
  /** Default: the SDK's chain (AWS_REGION, then the profile's configuration). */
  region?: string;
  /** Default: the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  ssmEndpoint?: string;
  /** Addressed path-style when set. */
  s3Endpoint?: string;
  fleet: {
    /** Where SSM writes the command output; without it, outputs over 24,000 bytes are cut. */
    bucket?: string;
    documentName: string;
    /** The managed nodes of a run when it names none itself. */
    target: SsmTarget;
    executionTimeoutSeconds?: number;
    deliveryTimeoutSeconds?: number;
    /** Polling and retry timings of the SSM runner (the simulator answers in milliseconds). */
    timing?: Pick<SsmFleetRunnerOptions, 'poll' | 'outputRetry' | 'apiRetry' | 'waitTimeoutMs'>;
  };
  /** The audit store (S3) and the run registry (DynamoDB); absent where the caller keeps its own store. */
  storage?: { bucket: string; encryption: S3Encryption; table: string; retentionDays: number };
  /** The cluster; absent when none is configured. */
  mesh?: MeshReaderSettings;
}

/**
 * What composes the mesh reader: composeMeshReader, passed in only by the callers that read the mesh, so that the
 * bundles of those that do not never hold the Kubernetes client (test/infra/bundles.test.ts).
 */
export interface AwsSideOptions {
  composeMeshReader?: typeof composeMeshReader;
}

/** Everything the AWS side is made of, built from one settings object, with the calls it made counted. */
export interface AwsSide {
  /** A runner for one run's commands: named by the run in their Comment, output under the run's prefix. */
  fleet(runId: string, target?: SsmTarget): SsmFleetRunner;
  /** A mesh reader, made afresh at each call (an EKS token is minted per read); undefined without a cluster or composer. */
  mesh?: () => Promise<CountedMeshReader>;
  store?: S3AuditStore;
  registry?: DynamoRunRegistry;
  /** SSM, S3 and Kubernetes calls per service and operation, over every runner and mesh reader made. */
  callCounts(): Record<string, number>;
  /** Ends the connections of every runner made, and forgets the runners and mesh readers (and so their counts). */
  close(): void;
}

export function composeAwsSide(settings: AwsSideSettings, options: AwsSideOptions = {}): AwsSide {
  const region = settings.region ? { region: settings.region } : {};
  const credentials = settings.credentials ? { credentials: settings.credentials } : {};
  const runners: SsmFleetRunner[] = [];
  const readers: CountedMeshReader[] = [];
  const storage = settings.storage;
  const meshSettings = settings.mesh;
  const meshReader = options.composeMeshReader;
  return {
    fleet(runId, target) {
      const { fleet } = settings;
      const runner = new SsmFleetRunner({
        ...region,
        ...credentials,
        ...(settings.ssmEndpoint ? { ssmEndpoint: settings.ssmEndpoint } : {}),
        ...(settings.s3Endpoint ? { s3Endpoint: settings.s3Endpoint, forcePathStyle: true } : {}),
        ...(fleet.bucket ? { bucket: fleet.bucket, keyPrefix: ssmOutputPrefix(runId) } : {}),
        comment: `fleet-audit run ${runId}`,
        documentName: fleet.documentName,
        target: target ?? fleet.target,
        ...(fleet.executionTimeoutSeconds !== undefined ? { executionTimeoutSeconds: fleet.executionTimeoutSeconds } : {}),
        ...(fleet.deliveryTimeoutSeconds !== undefined ? { deliveryTimeoutSeconds: fleet.deliveryTimeoutSeconds } : {}),
        ...fleet.timing,
      });
      runners.push(runner);
      return runner;
    },
    ...(meshSettings && meshReader
      ? {
          mesh: async () => {
            const reader = await meshReader(meshSettings);
            readers.push(reader);
            return reader;
          },
        }
      : {}),
    ...(storage
      ? {
          store: new S3AuditStore({ bucket: storage.bucket, encryption: storage.encryption, clientConfig: { ...region } }),
          registry: new DynamoRunRegistry({ tableName: storage.table, retentionDays: storage.retentionDays, clientConfig: { ...region } }),
        }
      : {}),
    callCounts: () => mergeCallCounts(...runners.map((r) => r.callCounts()), ...readers.map((r) => r.callCounts())),
    close: () => {
      for (const runner of runners.splice(0)) runner.destroy();
      // Forgotten with the runners: a function's container composes once and reads the mesh at every finalization.
      readers.splice(0);
    },
  };
}
