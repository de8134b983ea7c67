import type { SimVm } from '../fleet.ts';

/** The clusters a VM sidecar holds: istiod's, its own service's, one it calls, and its inbound port. */
export const ACTIVE_CLUSTERS = (vm: SimVm): string[] => [
  'outbound|15012||istiod.istio-system.svc.cluster.local',
  'outbound|443||istiod.istio-system.svc.cluster.local',
  `outbound|8080||${vm.group ?? vm.hostname}.${vm.namespace}.svc.cluster.local`,
  'outbound|80||httpbin.default.svc.cluster.local',
  'inbound|8080||',
];

/** Envoy's `/config_dump?resource=dynamic_*_clusters&mask=cluster.name,cluster.type` answer. */
export function clustersDump(names: string[]): string {
  return JSON.stringify(
    {
      configs: names.map((name) => ({
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
        // proto3 JSON leaves out a field at its default: STATIC, DiscoveryType's zero value, is never printed.
        cluster: {
          '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
          name,
          ...(name.startsWith('inbound') ? {} : { type: 'EDS' }),
        },
      })),
    },
    null,
    2,
  );
}
