import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simClusterEvidence, simInstanceInformation } from './cluster.ts';
import type { SimFleet } from './fleet.ts';
import { startKubeApiServer, type KubeApiFaults, type KubeApiServer } from './kube-api-server.ts';
import { startSimEndpoints, type SimEndpoints, type SimEndpointsOptions } from './sim-endpoints.ts';

export interface SimCloudOptions {
  fleet: SimFleet;
  /** The SSM side: delays, throttling, forced outcomes, the only document accepted… (and S3's faults, under `s3`) */
  ssm?: Omit<SimEndpointsOptions, 'fleet'>;
  /** Faults of the Kubernetes API and istiod replicas. */
  kubeFaults?: KubeApiFaults;
}

/** The simulated fleet behind real protocol endpoints: what `--source aws` needs to audit it. */
export interface SimCloud {
  ssmEndpoint: string;
  s3Endpoint: string;
  /** The evidence bucket, already created. */
  bucket: string;
  region: string;
  /** Credentials both AWS endpoints accept. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A kubeconfig whose current context reaches the simulated Kubernetes API as the audit's ServiceAccount. */
  kubeconfigPath: string;
  /** The tag every VM of the fleet carries, to target the whole fleet by tag. */
  tagKey: string;
  endpoints: SimEndpoints;
  kube: KubeApiServer;
  /** Stops every endpoint and removes the kubeconfig; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts the simulated SSM and S3 endpoints and the simulated Kubernetes API for one fleet, on loopback,
 * and writes a kubeconfig for the latter to a private temporary directory.
 */
export async function startSimCloud(options: SimCloudOptions): Promise<SimCloud> {
  const { fleet } = options;
  const tagKey = fleetTagKey(fleet);
  const opened: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    // Reverse order of opening; every step runs even when an earlier one fails.
    const errors: unknown[] = [];
    for (const close of opened.splice(0).reverse()) await close().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw new AggregateError(errors, 'closing the simulated cloud failed');
  };
  try {
    const endpoints = await startSimEndpoints({ ...options.ssm, fleet });
    opened.push(() => endpoints.close());
    const kube = await startKubeApiServer({
      cluster: simClusterEvidence(fleet),
      ...(options.kubeFaults ? { faults: options.kubeFaults } : {}),
    });
    opened.push(() => kube.close());
    const dir = await mkdtemp(join(tmpdir(), 'fleet-audit-kube-'));
    opened.push(() => rm(dir, { recursive: true, force: true }));
    const kubeconfigPath = join(dir, 'kubeconfig');
    // The kubeconfig carries the bearer token: readable by its owner only.
    await writeFile(kubeconfigPath, kube.kubeconfigYaml(), { mode: 0o600 });
    return {
      ssmEndpoint: endpoints.ssmEndpoint,
      s3Endpoint: endpoints.s3Endpoint,
      bucket: endpoints.bucket,
      region: endpoints.region,
      credentials: { ...endpoints.credentials },
      kubeconfigPath,
      tagKey,
      endpoints,
      kube,
      close: closeAll,
    };
  } catch (error) {
    await closeAll().catch(() => undefined);
    throw error;
  }
}

/** The one tag key all the fleet's managed nodes carry, as the SSM inventory shows it. */
function fleetTagKey(fleet: SimFleet): string {
  const keys = fleet.vms.map((vm) => new Set((simInstanceInformation(fleet, vm).Tags ?? []).map((t) => t.Key)));
  const common = [...(keys[0] ?? [])].filter((key) => keys.every((k) => k.has(key))).sort();
  if (common[0] === undefined) throw new Error('the simulated fleet has no tag that every VM carries: it cannot be targeted by tag');
  return common[0];
}
