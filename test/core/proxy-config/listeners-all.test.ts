import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ISTIOCTL_VERSIONS } from '../../../lib/core/istioctl-version.ts';
import { renderAllSummary } from '../../../lib/core/proxy-config/all-summary.ts';
import { parseBootstrapSummary, renderBootstrapSummary } from '../../../lib/core/proxy-config/bootstrap-summary.ts';
import { parseListenersDump, type ListenerEntry } from '../../../lib/core/proxy-config/listeners-dump.ts';
import { listenerType, renderListenersTable } from '../../../lib/core/proxy-config/listeners-table.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/proxy-config/${name}`, import.meta.url), 'utf8');
const NOW = new Date('2026-01-01T00:00:00Z');
const LISTENERS_DUMP = 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump';
const HCM = 'envoy.filters.network.http_connection_manager';
const TCP = 'envoy.filters.network.tcp_proxy';

function listeners(text = fixture('waypoint-config-dump.json')): ListenerEntry[] {
  const parsed = parseListenersDump(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

describe('proxy-config all', () => {
  it.each(ISTIOCTL_VERSIONS.filter((v) => v < '1.29'))(
    "prints istioctl %s's summary of the waypoint dump byte for byte (upstream 1.24.6 config_dump_summary.txt, unchanged to 1.28.10)",
    (version) => {
      expect(renderAllSummary(fixture('waypoint-config-dump.json'), { version, now: NOW })).toEqual({
        ok: true,
        value: fixture('waypoint-config-dump-summary.txt'),
      });
    },
  );

  it("prints istioctl 1.29's summary, and its --with-headers form (upstream 1.29.0 goldens)", () => {
    expect(renderAllSummary(fixture('waypoint-config-dump.json'), { version: '1.29', now: NOW })).toEqual({
      ok: true,
      value: fixture('waypoint-config-dump-summary-1.29.txt'),
    });
    expect(renderAllSummary(fixture('waypoint-config-dump.json'), { version: '1.29', now: NOW, withHeaders: true })).toEqual({
      ok: true,
      value: fixture('waypoint-config-dump-summary-with-headers-1.29.txt'),
    });
  });

  it('fails as istioctl does when a part is missing', () => {
    const result = renderAllSummary(fixture('secret-config-dump.json'), { version: '1.29', now: NOW });
    expect(result).toEqual({ ok: false, reason: 'holds no BootstrapConfigDump' });
  });
});

describe('the listener table', () => {
  it('prints the short table: one row per listener with its type', () => {
    expect(renderListenersTable(listeners(), { verbose: false })).toBe(
      'ADDRESSES PORT  TYPE\n          0     HTTP+TCP\n0.0.0.0   15021 HTTP\n',
    );
  });

  it('filters by port, address and type', () => {
    expect(renderListenersTable(listeners(), { verbose: false, filter: { port: 15021 } }).split('\n')).toHaveLength(3);
    expect(renderListenersTable(listeners(), { verbose: false, filter: { address: '0.0.0.0', type: 'http' } }).split('\n')[1]).toBe(
      '0.0.0.0   15021 HTTP',
    );
    expect(renderListenersTable(listeners(), { verbose: false, filter: { type: 'TCP' } })).toBe('ADDRESSES PORT TYPE\n');
  });

  it('describes filter chain matches and destinations as istioctl does', () => {
    const chain = (match: unknown, filters: unknown[]): unknown => ({ filter_chain_match: match, filters });
    const text = JSON.stringify({
      configs: [
        {
          '@type': LISTENERS_DUMP,
          dynamic_listeners: [
            {
              active_state: {
                listener: {
                  name: 'virtualInbound',
                  address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
                  filter_chains: [
                    chain({ destination_port: 8080, transport_protocol: 'tls', application_protocols: ['istio-peer-exchange', 'istio'] }, [
                      { name: TCP, typed_config: { cluster: 'inbound|8080||' } },
                    ]),
                    chain(
                      {
                        prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: 8 }],
                        destination_port: 9080,
                        application_protocols: ['http/1.0', 'http/1.1', 'h2c'],
                      },
                      [{ name: HCM, typed_config: { rds: { route_config_name: 'inbound|9080||' } } }],
                    ),
                    chain({ server_names: ['a.example', 'b.example'], application_protocols: ['h2'] }, [
                      {
                        name: HCM,
                        typed_config: {
                          route_config: {
                            virtual_hosts: [
                              { domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'InboundPassthroughCluster' } }] },
                            ],
                          },
                        },
                      },
                    ]),
                    chain(undefined, [{ name: TCP, typed_config: { cluster: 'BlackHoleCluster', stat_prefix: 'BlackHoleCluster' } }]),
                  ],
                },
              },
            },
          ],
        },
      ],
    });
    const rows = renderListenersTable(listeners(text))
      .split('\n')
      .slice(1, -1)
      .map((l) => l.trimEnd().split(/ {2,}|(?<=\d) (?=[A-Z])/));
    // Rows by DESTINATION, descending (byte order).
    expect(rows.map((r) => r.slice(-2))).toEqual([
      ['App: HTTP; Addr: 10.0.0.0/8:9080', 'Route: inbound|9080||'],
      ['ALL', 'Non-HTTP/Non-TCP'],
      ['SNI: a.example,b.example; App: h2', 'InboundPassthroughCluster'],
      ['Trans: tls; App: TCP TLS; Addr: *:8080', 'Cluster: inbound|8080||'],
    ]);
    expect(listenerType(listeners(text)[0]!)).toBe('HTTP+TCP');
  });

  it('reads the bootstrap versions as istioctl prints them', () => {
    const parsed = parseBootstrapSummary(fixture('waypoint-config-dump.json'));
    expect(parsed.ok && renderBootstrapSummary(parsed.value)).toBe(fixture('waypoint-config-dump-summary.txt').split('\n\n')[0] + '\n');
  });
});

describe('the listener, bootstrap and all parsers', () => {
  it('never throw on junk, and say what is wrong', () => {
    const junk = [
      '',
      'null',
      '[]',
      '{"configs": 1}',
      '{"configs": [1, "x", null]}',
      JSON.stringify({ configs: [{ '@type': LISTENERS_DUMP, dynamic_listeners: [{ active_state: { listener: { name: 3 } } }] }] }),
      JSON.stringify({ configs: [{ '@type': LISTENERS_DUMP, static_listeners: 'x' }] }),
      JSON.stringify({
        configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: { node: { metadata: 'x' } } }],
      }),
    ];
    for (const text of junk) {
      expect(() => parseListenersDump(text)).not.toThrow();
      expect(() => parseBootstrapSummary(text)).not.toThrow();
      const all = renderAllSummary(text, { version: '1.29', now: NOW });
      expect(all.ok).toBe(false);
    }
  });

  it('describes odd filter configs without throwing', () => {
    const text = JSON.stringify({
      configs: [
        {
          '@type': LISTENERS_DUMP,
          static_listeners: [
            {
              listener: {
                filter_chains: [
                  {
                    filters: [
                      { name: HCM, typed_config: { rds: null, route_config: 'x' } },
                      { name: TCP, typed_config: { cluster: 7 } },
                    ],
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(renderListenersTable(listeners(text)).split('\n')[1]).toBe('          0    ALL   HTTP');
  });
});
