import type { MeshReader } from '../../lib/ports/mesh-reader.ts';
import type { MeshConfig, StorageConfig } from './config.ts';

/**
 * The mesh of the EKS cluster, reached with a bearer token minted from the function's role at each call
 * (one per finalization), so no token outlives the run it was made for.
 *
 * The Kubernetes client is imported here, when a finalization first reads the mesh, not when the function
 * starts: it is the largest part of the finalizing functions' bundles, and a cold start that only collects
 * (or a deployment with no cluster) never pays for loading it (bench/function-bundles.ts).
 */
export function makeMeshFactory(storage: StorageConfig, mesh: MeshConfig): () => Promise<MeshReader> {
  return async () => {
    const [{ buildKubeConfig }, { KubeMeshReader }] = await Promise.all([
      import('../../lib/adapters/kube-config.ts'),
      import('../../lib/adapters/kube-mesh-reader.ts'),
    ]);
    const { kubeConfig } = await buildKubeConfig({
      kind: 'eks',
      clusterName: mesh.clusterName,
      region: storage.region,
      server: mesh.endpoint,
      caData: mesh.caData,
    });
    return new KubeMeshReader({
      kubeConfig,
      istioNamespace: mesh.istioNamespace,
      ...(mesh.rootCaConfigMap ? { rootCaConfigMap: mesh.rootCaConfigMap } : {}),
    });
  };
}
