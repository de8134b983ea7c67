/**
 * What a finalization of a large run finds in AWS, on loopback: the run's evidence already stored in S3
 * (s3rver, with an emulated latency on every request) and the mesh behind the simulated Kubernetes API.
 * The bucket is filled without latency, then served with it, so that only the finalization pays it.
 */
import { createCipheriv } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { S3AuditStore } from '../lib/adapters/s3-audit-store.ts';
import { simClusterEvidence } from '../sim/cluster.ts';
import type { SimFleet } from '../sim/fleet.ts';
import { startKubeApiServer } from '../sim/kube-api-server.ts';
import { S3RVER_CREDENTIALS, startS3Server } from '../sim/s3-server.ts';
import type { FinalizeBenchSetup } from './measure-finalize.ts';
import { writeSimEvidence } from './sim-bundle.ts';

const BUCKET = 'fleet-audit-bench';
const REGION = 'eu-west-1';

export interface FinalizeFixture {
  setup: FinalizeBenchSetup;
  /** Time taken to store the run, not part of the measure. */
  storeMs: number;
  close(): Promise<void>;
}

export async function startFinalizeFixture(fleet: SimFleet, options: { s3LatencyMs: number }): Promise<FinalizeFixture> {
  requireDesCipher();
  const dir = await mkdtemp(join(tmpdir(), 'fleet-audit-bench-finalize-'));
  const closers: Array<() => Promise<void>> = [() => rm(dir, { recursive: true, force: true })];
  const close = async (): Promise<void> => {
    for (const step of closers.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const runId = `bench-finalize-${fleet.vms.length}`;
    const objects = join(dir, 's3');
    const started = performance.now();
    const filling = await startS3Server({ directory: objects, buckets: [BUCKET] });
    try {
      const s3 = new S3Client({
        region: REGION,
        endpoint: filling.endpoint,
        forcePathStyle: true,
        credentials: S3RVER_CREDENTIALS,
        maxAttempts: 5,
      });
      const store = new S3AuditStore({ bucket: BUCKET, client: s3, encryption: { kind: 'AES256' } });
      await writeSimEvidence((await store.openRun(runId)).evidence, fleet, runId, { finished: false, source: 'aws' });
      s3.destroy();
    } finally {
      await filling.close();
    }
    const storeMs = performance.now() - started;
    const s3 = await startS3Server({ directory: objects, buckets: [BUCKET], latencyMs: options.s3LatencyMs });
    closers.push(() => s3.close());
    const kube = await startKubeApiServer({ cluster: simClusterEvidence(fleet) });
    closers.push(() => kube.close());
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kube.kubeconfigYaml(), { mode: 0o600 });
    return {
      setup: {
        s3Endpoint: s3.endpoint,
        bucket: BUCKET,
        region: REGION,
        kubeconfigPath,
        runId,
        commandId: '0b1d7c52-bench-4e4f-9d2a-finalize0000',
        vms: fleet.vms.length,
        namespaces: [...new Set(fleet.vms.map((vm) => vm.namespace))].sort(),
        startedAt: fleet.now.toISOString(),
      },
      storeMs,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * s3rver pages a listing past 1,000 keys with a continuation token it enciphers with DES, which OpenSSL 3
 * keeps in its legacy provider: without it every listing of a large run fails with InternalError. Node
 * loads that provider with --openssl-legacy-provider (as `npm run bench` does).
 */
function requireDesCipher(): void {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch {
    throw new Error(
      's3rver cannot list more than 1,000 keys without the DES cipher: run Node with --openssl-legacy-provider (npm run bench does)',
    );
  }
}
