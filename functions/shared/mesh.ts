import { buildKubeConfig } from '../../lib/adapters/kube-config.ts';
import { KubeMeshReader } from '../../lib/adapters/kube-mesh-reader.ts';
import type { MeshReader } from '../../lib/ports/mesh-reader.ts';
import type { MeshConfig, StorageConfig } from './config.ts';

/**
 * The mesh of the EKS cluster, reached with a bearer token minted from the function's role at each call
 * (one per finalization), so no token outlives the run it was made for.
 */
export function makeMeshFactory(storage: StorageConfig, mesh: MeshConfig): () => Promise<MeshReader> {
  return async () => {
    const { kubeConfig } = await buildKubeConfig({ kind: 'eks', clusterName: mesh.clusterName, region: storage.region, server: mesh.endpoint, caData: mesh.caData });
    return new KubeMeshReader({ kubeConfig, istioNamespace: mesh.istioNamespace, ...(mesh.rootCaConfigMap ? { rootCaConfigMap: mesh.rootCaConfigMap } : {}) });
  };
}
