/**
 * The fake Envoy's default `/clusters?format=json` answer (envoy.admin.v3.Clusters, one-space indent as
 * Envoy's admin prints it): the bootstrap's static clusters and the fake VM's dynamic clusters, every
 * outbound one with a healthy endpoint, laid out like test/fixtures/envoy-clusters/sidecar-healthy.json.
 */
export function healthyClusterStatuses(vm: { namespace: string; ip: string }): string {
  const socket = (address: string, port: number) => ({ socket_address: { address, port_value: port } });
  const host = (address: object) => ({
    address,
    stats: [
      { name: 'cx_connect_fail' },
      { value: '3', name: 'cx_total' },
      { name: 'rq_error' },
      { value: '12', name: 'rq_success' },
      { name: 'rq_timeout' },
      { value: '12', name: 'rq_total' },
      { type: 'GAUGE', value: '1', name: 'cx_active' },
      { type: 'GAUGE', name: 'rq_active' },
    ],
    health_status: { eds_health_status: 'HEALTHY' },
    weight: 1,
    locality: {},
  });
  const dynamic = (name: string, hosts: object[]) => ({
    name,
    observability_name: name,
    added_via_api: true,
    eds_service_name: name,
    ...(hosts.length > 0 ? { host_statuses: hosts } : {}),
  });
  return JSON.stringify(
    {
      cluster_statuses: [
        { name: 'agent', host_statuses: [host(socket('127.0.0.1', 15020))] },
        { name: 'xds-grpc', host_statuses: [host({ pipe: { path: './etc/istio/proxy/XDS' } })] },
        { name: 'BlackHoleCluster' },
        dynamic('outbound|15012||istiod.istio-system.svc.cluster.local', [host(socket('10.244.0.175', 15012))]),
        dynamic('outbound|443||istiod.istio-system.svc.cluster.local', [host(socket('10.244.0.175', 15017))]),
        dynamic(`outbound|8080||foo.${vm.namespace}.svc.cluster.local`, [host(socket(vm.ip, 8080))]),
        { name: 'inbound|8080||', added_via_api: true },
      ],
    },
    null,
    1,
  );
}
