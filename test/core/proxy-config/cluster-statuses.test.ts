import { describe, expect, it } from 'vitest';
import { parseClusterStatuses, type ClusterStatusEntry } from '../../../lib/core/proxy-config/cluster-statuses.ts';
import { istioctlClusterStatusMessages, renderClusterStatusesTable } from '../../../lib/core/proxy-config/cluster-statuses-table.ts';

// The shape of envoy.admin.v3.Clusters (api/envoy/admin/v3/clusters.proto) as /clusters?format=json prints it.
const ANSWER = JSON.stringify({
  cluster_statuses: [
    {
      name: 'outbound|9080||reviews.default.svc.cluster.local',
      added_via_api: true,
      host_statuses: [
        {
          address: { socket_address: { address: '10.244.0.195', port_value: 9080 } },
          health_status: { eds_health_status: 'HEALTHY' },
          weight: 1,
          locality: {},
        },
        {
          address: { socket_address: { address: '10.244.0.192', port_value: 9080 } },
          health_status: { eds_health_status: 'UNHEALTHY', failed_outlier_check: true },
          weight: 1,
        },
      ],
    },
    {
      name: 'sds-grpc',
      host_statuses: [
        { address: { pipe: { path: './var/run/secrets/workload-spiffe-uds/socket' } }, health_status: { eds_health_status: 'HEALTHY' } },
      ],
    },
    {
      name: 'inbound-vip|8000|http|httpbin.default.svc.cluster.local',
      host_statuses: [
        {
          address: { envoy_internal_address: { server_listener_name: 'connect_originate', endpoint_id: '10.0.0.9:8000' } },
          health_status: {},
        },
      ],
    },
    { name: 'BlackHoleCluster' },
  ],
});

function statuses(text = ANSWER): ClusterStatusEntry[] {
  const parsed = parseClusterStatuses(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

describe("istioctl's endpoints table from /clusters?format=json", () => {
  it('lists every host by address, port and cluster, with its EDS health and outlier check', () => {
    const lines = renderClusterStatusesTable(statuses()).split('\n');
    expect(lines.at(-1)).toBe('');
    // Go's tabwriter: each column as wide as its widest cell plus 5 spaces, the last cell unpadded.
    expect(lines[0]).toBe(`${'ENDPOINT'.padEnd(56)}${'STATUS'.padEnd(14)}${'OUTLIER CHECK'.padEnd(18)}CLUSTER`);
    expect(lines.slice(1, -1).map((l) => l.split(/ {2,}/))).toEqual([
      ['10.244.0.192:9080', 'UNHEALTHY', 'FAILED', 'outbound|9080||reviews.default.svc.cluster.local'],
      ['10.244.0.195:9080', 'HEALTHY', 'OK', 'outbound|9080||reviews.default.svc.cluster.local'],
      ['envoy://connect_originate/10.0.0.9:8000', 'UNKNOWN', 'OK', 'inbound-vip|8000|http|httpbin.default.svc.cluster.local'],
      ['unix://./var/run/secrets/workload-spiffe-uds/socket', 'HEALTHY', 'OK', 'sds-grpc'],
    ]);
  });

  it('filters by address without the port, by port, cluster and status', () => {
    const rows = (filter: object): string[] =>
      renderClusterStatusesTable(statuses(), filter)
        .split('\n')
        .slice(1, -1)
        .map((l) => l.split(/\s+/)[0]!);
    expect(rows({ address: '10.244.0.195' })).toEqual(['10.244.0.195:9080']);
    expect(rows({ address: '10.244.0.195:9080' })).toEqual([]);
    expect(rows({ port: 9080, status: 'healthy' })).toEqual(['10.244.0.195:9080']);
    expect(rows({ cluster: 'SDS-GRPC' })).toEqual(['unix://./var/run/secrets/workload-spiffe-uds/socket']);
    const kept = istioctlClusterStatusMessages(statuses(), { status: 'unhealthy' }) as Array<{ name: string }>;
    expect(kept.map((c) => c.name)).toEqual(['outbound|9080||reviews.default.svc.cluster.local']);
  });

  it('points a config dump to eds, and never throws on junk', () => {
    const dump = parseClusterStatuses('{"configs": []}');
    expect(dump.ok ? '' : dump.reason).toContain('proxy-config eds');
    for (const junk of [
      '',
      'outbound|80||x::default_priority::max_connections::1024',
      '[]',
      '{"cluster_statuses": [{"name": 1}]}',
      '{"cluster_statuses": 5}',
    ]) {
      expect(parseClusterStatuses(junk).ok).toBe(false);
    }
  });
});
