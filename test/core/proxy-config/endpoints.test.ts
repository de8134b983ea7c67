import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEndpointsDump, type ClusterLoadAssignmentEntry } from '../../../lib/core/proxy-config/endpoints-dump.ts';
import { filterEndpoints, istioctlAssignmentMessages, renderEndpointsTable } from '../../../lib/core/proxy-config/endpoints-table.ts';
import { renderIstioctlMessages } from '../../../lib/core/proxy-config/istioctl-output.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/proxy-config/${name}`, import.meta.url), 'utf8');

function assignments(text = fixture('eds-config-dump.json')): ClusterLoadAssignmentEntry[] {
  const parsed = parseEndpointsDump(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

const EDS_DUMP = 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump';
const cla = (name: string, lbEndpoints: unknown[], locality: unknown = {}): unknown => ({
  endpoint_config: { cluster_name: name, endpoints: [{ locality, lb_endpoints: lbEndpoints }] },
});

describe('the EDS table', () => {
  it("prints istioctl's table byte for byte (upstream 1.24.6 emptyfilter_output.txt)", () => {
    expect(renderEndpointsTable(assignments())).toBe(fixture('eds-output.txt'));
  });

  it('keeps only the endpoints on the --port, as upstream portfilter_output.txt', () => {
    expect(renderEndpointsTable(assignments(), { port: 8080 })).toBe(fixture('eds-port-8080-output.txt'));
  });

  it('filters by address, cluster and status without regard to case, and leaves out assignments left empty', () => {
    const kept = filterEndpoints(assignments(), {
      address: '10.244.0.192:9080',
      cluster: 'OUTBOUND|9080||REVIEWS.default.svc.cluster.local',
      status: 'healthy',
    });
    expect(kept.map((c) => [c.clusterName, c.endpoints.map((e) => e.addresses)])).toEqual([
      ['outbound|9080||reviews.default.svc.cluster.local', [['10.244.0.192:9080']]],
    ]);
    expect(filterEndpoints(assignments(), { status: 'UNHEALTHY' })).toEqual([]);
  });

  it('prints every address form, the locality and a numeric health status as istioctl does', () => {
    const text = JSON.stringify({
      configs: [
        {
          '@type': EDS_DUMP,
          dynamic_endpoint_configs: [
            cla(
              'outbound|80||a.ns.svc.cluster.local',
              [
                {
                  endpoint: {
                    address: { socket_address: { address: '10.0.0.1', port_value: 80 } },
                    additional_addresses: [{ address: { socket_address: { address: 'fd00::1', port_value: 80 } } }],
                  },
                  health_status: 3,
                },
                {
                  endpoint: {
                    address: { envoy_internal_address: { server_listener_name: 'connect_originate', endpoint_id: '10.0.0.2:80' } },
                  },
                },
                { endpoint: {} },
              ],
              { region: 'eu-west-1', zone: 'eu-west-1a' },
            ),
            { endpoint_config: 'not an assignment' },
          ],
        },
      ],
    });
    const rows = renderEndpointsTable(assignments(text))
      .split('\n')
      .slice(1, -1)
      .map((l) => l.trimEnd().split(/ {2,}/));
    expect(rows).toEqual([
      ['10.0.0.1:80,fd00::1:80', 'DRAINING', 'eu-west-1/eu-west-1a', 'outbound|80||a.ns.svc.cluster.local'],
      ['envoy://connect_originate/10.0.0.2:80', 'UNKNOWN', 'eu-west-1/eu-west-1a', 'outbound|80||a.ns.svc.cluster.local'],
      ['unknown', 'UNKNOWN', 'eu-west-1/eu-west-1a', 'outbound|80||a.ns.svc.cluster.local'],
    ]);
  });

  it('prints the kept assignments as istioctl does with -o json and -o yaml (upstream 1.24.6 *_output.json, *_output.yaml)', () => {
    for (const [port, name] of [
      [0, 'eds-output'],
      [8080, 'eds-port-8080-output'],
    ] as const) {
      const messages = istioctlAssignmentMessages(assignments(), { port });
      expect(renderIstioctlMessages(messages, 'json')).toEqual({ ok: true, value: fixture(`${name}.json`) });
      expect(renderIstioctlMessages(messages, 'yaml')).toEqual({ ok: true, value: fixture(`${name}.yaml`) });
    }
  });

  it('says what to do when the dump holds no endpoints section, and never throws on junk', () => {
    const parsed = parseEndpointsDump(fixture('secret-config-dump.json'));
    expect(parsed.ok ? '' : parsed.reason).toContain('?include_eds');
    for (const junk of ['', '[]', '{"configs": 3}', '{"configs": [{"@type": "' + EDS_DUMP + '", "dynamic_endpoint_configs": 5}]}']) {
      expect(parseEndpointsDump(junk).ok).toBe(false);
    }
  });
});
