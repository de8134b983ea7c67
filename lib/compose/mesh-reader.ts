import type { KubeConfigSource } from '../adapters/kube-config.ts';
import type { MeshReader } from '../ports/mesh-reader.ts';
import { kubeCallCounts } from './call-counts.ts';

/** Where the cluster is and which of its settings the reader is told. */
export interface MeshReaderSettings {
  kube: KubeConfigSource;
  /** Where istiod runs (default: the reader's, istio-system). */
  istioNamespace?: string;
  /** The root-of-trust ConfigMap's name, when set by hand (otherwise the reader asks istiod's pods). */
  rootCaConfigMap?: string;
}

/** A mesh reader that also says which Kubernetes calls its last read made. */
export interface CountedMeshReader extends MeshReader {
  callCounts(): Record<string, number>;
}

/** Why the mesh cannot be read at all: the kubeconfig is unusable, or names no cluster. */
export class MeshSetupError extends Error {
  readonly stage: 'kubeconfig' | 'reader';
  constructor(stage: 'kubeconfig' | 'reader', message: string) {
    super(message);
    this.name = 'MeshSetupError';
    this.stage = stage;
  }
}

/**
 * The cluster's mesh through its Kubernetes API, counting the calls of each read.
 *
 * The Kubernetes client is imported here, when a mesh is first composed, not when the caller starts: it is the
 * largest part of the finalizing functions' bundles, and a cold start that only collects (or a deployment with no
 * cluster) never pays for loading it (bench/function-bundles.ts).
 */
export async function composeMeshReader(settings: MeshReaderSettings): Promise<CountedMeshReader> {
  const [{ buildKubeConfig }, { KubeMeshReader }] = await Promise.all([
    import('../adapters/kube-config.ts'),
    import('../adapters/kube-mesh-reader.ts'),
  ]);
  let kubeConfig;
  try {
    ({ kubeConfig } = await buildKubeConfig(settings.kube));
  } catch (error) {
    throw new MeshSetupError('kubeconfig', (error as Error).message);
  }
  let reader: InstanceType<typeof KubeMeshReader>;
  try {
    reader = new KubeMeshReader({
      kubeConfig,
      ...(settings.istioNamespace !== undefined ? { istioNamespace: settings.istioNamespace } : {}),
      ...(settings.rootCaConfigMap ? { rootCaConfigMap: settings.rootCaConfigMap } : {}),
    });
  } catch (error) {
    throw new MeshSetupError('reader', (error as Error).message);
  }
  let calls: string[] = [];
  return {
    // Through readClusterWithProblems so the calls made are known; the evidence is what readCluster returns.
    readCluster: async (namespaces) => {
      const read = await reader.readClusterWithProblems(namespaces);
      calls = read.calls;
      return { ...read.evidence, problems: read.problems };
    },
    callCounts: () => kubeCallCounts(calls),
  };
}
