/**
 * Child of the benchmark: one finalization of a large run, as the function that finalizes runs it
 * (finalizeAudit over the S3 store and the Kubernetes mesh reader), in a process of its own so that its
 * peak RSS is what the function would need. Every invocation record is already collected in the store:
 * the finalization claims the run, reads the mesh, reads the whole bundle back, analyzes it and writes the
 * reports. The run registry is the in-memory one (DynamoDB is a few small items here), and the fleet
 * reports nothing left to collect.
 *
 *   node bench/measure-finalize.ts '<json: FinalizeBenchSetup>'
 */
import { S3Client } from '@aws-sdk/client-s3';
import { buildKubeConfig } from '../lib/adapters/kube-config.ts';
import { KubeMeshReader } from '../lib/adapters/kube-mesh-reader.ts';
import { MemoryRunRegistry } from '../lib/adapters/memory-run-registry.ts';
import { S3AuditStore } from '../lib/adapters/s3-audit-store.ts';
import type { CommandFleet } from '../lib/ports/run-registry.ts';
import { S3RVER_CREDENTIALS } from '../sim/s3-server.ts';
import { finalizeAudit } from '../lib/use-cases/finalize-audit.ts';
import { reportToParent } from './child-measure.ts';

/** Where the stored run and the mesh are, and what the registry knew of the run before its finalization. */
export interface FinalizeBenchSetup {
  s3Endpoint: string;
  bucket: string;
  region: string;
  kubeconfigPath: string;
  runId: string;
  commandId: string;
  vms: number;
  namespaces: string[];
  /** The run's start, ISO; the finalization's clock stands a minute later. */
  startedAt: string;
}

const setup = JSON.parse(process.argv[2] ?? '') as FinalizeBenchSetup;
const startedAt = new Date(setup.startedAt);
const now = new Date(startedAt.getTime() + 60_000);

const registry = new MemoryRunRegistry();
await registry.create({
  runId: setup.runId,
  trigger: 'schedule',
  startedAt: setup.startedAt,
  deadline: new Date(startedAt.getTime() + 30 * 60_000).toISOString(),
  location: setup.runId,
});
await registry.markCollecting(setup.runId, { commandIds: [setup.commandId], expectedCount: setup.vms, collectedCount: setup.vms });
await registry.recordNamespaces(setup.runId, setup.namespaces);

const nothingLeft: CommandFleet = {
  listInstances: () => Promise.reject(new Error('a finalization lists no instances')),
  sendDiagnostics: () => Promise.reject(new Error('a finalization sends no command')),
  collect: async () => ({ collected: [], pending: [] }),
};
// The retries the store gives its own client in the function (S3AuditStore's default).
const s3 = new S3Client({
  region: setup.region,
  endpoint: setup.s3Endpoint,
  forcePathStyle: true,
  credentials: S3RVER_CREDENTIALS,
  retryMode: 'adaptive',
  maxAttempts: 5,
});
const store = new S3AuditStore({ bucket: setup.bucket, client: s3, encryption: { kind: 'AES256' } });

const started = performance.now();
const result = await finalizeAudit(
  {
    registry,
    store,
    fleet: () => nothingLeft,
    mesh: async () => new KubeMeshReader({ kubeConfig: (await buildKubeConfig({ kind: 'file', path: setup.kubeconfigPath })).kubeConfig }),
    clock: () => now,
  },
  { runId: setup.runId },
);
const ms = performance.now() - started;
s3.destroy();
if (result.kind !== 'done') throw new Error(`the finalization ended ${JSON.stringify(result)}, not done`);
reportToParent({ ms, vmsInReport: result.summary.vms, written: result.written });
