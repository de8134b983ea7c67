import { vmServiceName, type SimVm } from '../fleet.ts';

/** The clusters a VM sidecar holds: istiod's, its own service's, one it calls, and its inbound port. */
export const ACTIVE_CLUSTERS = (vm: SimVm): string[] => [
  'outbound|15012||istiod.istio-system.svc.cluster.local',
  'outbound|443||istiod.istio-system.svc.cluster.local',
  `outbound|8080||${vmServiceName(vm)}.${vm.namespace}.svc.cluster.local`,
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

/** The address of the httpbin pod the simulated VMs call. */
const HTTPBIN_POD = '10.100.4.27';

/**
 * Envoy's `/clusters?format=json` answer (envoy.admin.v3.Clusters): the static clusters of Istio's
 * bootstrap, then ACTIVE_CLUSTERS with their endpoints: istiod's pods (sim/cluster.ts gives them
 * 10.100.0.12 on), this VM for its own service, and the httpbin pod. A VM with `other-network-endpoints`
 * cannot reach the pods' network: its connections to them fail and outlier detection ejects them; its own
 * address stays healthy.
 */
export function clusterStatuses(istiods: readonly string[], vm: SimVm): string {
  const podsUnreachable = vm.faults.includes('other-network-endpoints');
  const pipe = (path: string) => ({ pipe: { path } });
  const socket = (address: string, port: number) => ({ socket_address: { address, port_value: port } });
  const pod = (address: string, port: number) => host(socket(address, port), podsUnreachable);
  const istiodPods = (port: number) => istiods.map((_, index) => pod(`10.100.0.${12 + index}`, port));
  const clusters = [
    staticCluster('prometheus_stats', [host(socket('127.0.0.1', 15000), false)]),
    staticCluster('agent', [host(socket('127.0.0.1', 15020), false)]),
    staticCluster('sds-grpc', [host(pipe('./var/run/secrets/workload-spiffe-uds/socket'), false)]),
    staticCluster('xds-grpc', [host(pipe('./etc/istio/proxy/XDS'), false)]),
    staticCluster('BlackHoleCluster', []),
    staticCluster('PassthroughCluster', []),
    ...ACTIVE_CLUSTERS(vm).map((name) => {
      const port = Number(name.split('|')[1]);
      const hosts = name.includes('||istiod.')
        ? istiodPods(port === 443 ? 15017 : port)
        : name.includes('||httpbin.')
          ? [pod(HTTPBIN_POD, 8080)]
          : name.startsWith('outbound|')
            ? [host(socket(vm.ip, port), false)]
            : [];
      return { name, added_via_api: true, ...(hosts.length > 0 ? { host_statuses: hosts } : {}) };
    }),
  ];
  // Envoy's admin prints its JSON with a one-space indent.
  return JSON.stringify({ cluster_statuses: clusters }, null, 1);
}

/** A cluster of the bootstrap: proto3 JSON leaves `added_via_api: false` and an empty host list out. */
function staticCluster(name: string, hosts: object[]): object {
  return { name, ...(hosts.length > 0 ? { host_statuses: hosts } : {}) };
}

/**
 * One host status: Envoy's eight per-host counters and gauges (proto3 JSON leaves a zero value and the
 * COUNTER type out), its EDS health and, for an ejected host, the outlier flag and the failed connections.
 */
function host(address: object, ejected: boolean): object {
  const failures = ejected ? { value: '5' } : {};
  return {
    address,
    stats: [
      { ...failures, name: 'cx_connect_fail' },
      { ...failures, name: 'cx_total' },
      { name: 'rq_error' },
      { name: 'rq_success' },
      { name: 'rq_timeout' },
      { name: 'rq_total' },
      { type: 'GAUGE', name: 'cx_active' },
      { type: 'GAUGE', name: 'rq_active' },
    ],
    health_status: ejected ? { failed_outlier_check: true, eds_health_status: 'HEALTHY' } : { eds_health_status: 'HEALTHY' },
    weight: 1,
    locality: {},
  };
}
