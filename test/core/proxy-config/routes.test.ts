import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRoutesDump, type RouteConfigEntry } from '../../../lib/core/proxy-config/routes-dump.ts';
import {
  describeRouteDomains,
  istioctlRouteOrder,
  istioctlRouteMessages,
  renderRoutesTable,
} from '../../../lib/core/proxy-config/routes-table.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/proxy-config/${name}`, import.meta.url), 'utf8');

function routes(text: string): RouteConfigEntry[] {
  const parsed = parseRoutesDump(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

const ROUTES_DUMP = 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump';
const dumpOf = (...configs: unknown[]): string =>
  JSON.stringify({ configs: [{ '@type': ROUTES_DUMP, dynamic_route_configs: configs.map((route_config) => ({ route_config })) }] });

describe('the routes table', () => {
  // Upstream compares its route goldens with surrounding whitespace trimmed (pilot/test/util Compare), and
  // stores them so: the padding istioctl prints after the last row's MATCH is not in the files.
  it.each(['empty-gateway', 'istio-gateway-http-route-prefix', 'k8s-gateway-http-route-path-prefix'])(
    "prints istioctl's verbose table of upstream's %s",
    (name) => {
      const table = renderRoutesTable(routes(fixture(`routes-${name}-config-dump.json`)));
      expect(table.trim()).toBe(fixture(`routes-${name}-output.txt`).trim());
    },
  );

  it('prints one row per route configuration without --verbose, and keeps the --name asked for', () => {
    const configs = routes(fixture('routes-istio-gateway-http-route-prefix-config-dump.json'));
    expect(renderRoutesTable(configs, { verbose: false })).toBe(
      'NAME          VIRTUAL HOSTS\nhttp.8080     1\n              1\n              1\n',
    );
    expect(renderRoutesTable(configs, { name: 'http.8080' }).split('\n')).toHaveLength(3);
    expect((istioctlRouteMessages(configs, { name: 'http.8080' }) as Array<{ name: string }>).map((c) => c.name)).toEqual(['http.8080']);
  });

  it('hides routes to PassthroughCluster, prints 404 for a virtual host without routes, and describes every match kind', () => {
    const text = dumpOf({
      name: '9080',
      virtual_hosts: [
        {
          name: 'reviews.default.svc.cluster.local:9080',
          domains: [
            'reviews.default.svc.cluster.local',
            'reviews.default.svc.cluster.local:9080',
            'reviews',
            'reviews:9080',
            'reviews.default.svc',
            'reviews.default',
            '10.96.0.7',
          ],
          routes: [
            {
              match: { safe_regex: { regex: '/v[12]/.*' } },
              route: { cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
              metadata: {
                filter_metadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews' } },
              },
            },
            { match: { path: '/exact' }, route: { cluster: 'outbound|9080||reviews.default.svc.cluster.local' } },
          ],
        },
        { name: 'allow_any', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }] },
        { name: 'block_all', domains: ['*'] },
      ],
    });
    expect(
      renderRoutesTable(routes(text))
        .split('\n')
        .slice(1, -1)
        .map((l) => l.trimEnd().split(/ {2,}/)),
    ).toEqual([
      ['9080', 'reviews.default.svc.cluster.local:9080', 'reviews, reviews.default + 1 more...', 'regex /v[12]/.*', 'reviews.default'],
      ['9080', 'reviews.default.svc.cluster.local:9080', 'reviews, reviews.default + 1 more...', '/exact'],
      ['9080', 'block_all', '*', '/*', '404'],
    ]);
  });

  it('describes domains as istioctl does (upstream route_test.go cases)', () => {
    expect(describeRouteDomains([])).toBe('');
    expect(describeRouteDomains(['example.com'])).toBe('example.com');
    expect(describeRouteDomains(['example.com', 'example.com:8080'])).toBe('example.com');
    expect(describeRouteDomains(['example.com', 'example.com:8080', '1.2.3.4', '1.2.3.4:8080'])).toBe('example.com, 1.2.3.4');
    expect(describeRouteDomains(['example.com', 'example.com:8080', '[fd00:10:96::7fc7]', '[fd00:10:96::7fc7]:8080'])).toBe(
      'example.com, [fd00:10:96::7fc7]',
    );
    expect(
      describeRouteDomains([
        'example.com',
        'example.com:8080',
        'www.example.com',
        'www.example.com:8080',
        '[fd00:10:96::7fc7]',
        '[fd00:10:96::7fc7]:8080',
      ]),
    ).toBe('example.com, www.example.com + 1 more...');
  });

  it("orders numeric names among themselves and leaves the others where Go's insertion sort leaves them", () => {
    const names = (...n: string[]): RouteConfigEntry[] => n.map((name) => ({ name, virtualHosts: [], raw: {} }));
    expect(istioctlRouteOrder(names('9080', '80', 'InboundPassthroughCluster', '15010', '443')).map((c) => c.name)).toEqual([
      '80',
      '9080',
      'InboundPassthroughCluster',
      '443',
      '15010',
    ]);
  });

  it('never throws on junk', () => {
    for (const junk of ['', 'null', '{"configs": [{"@type": "' + ROUTES_DUMP + '", "dynamic_route_configs": 1}]}', dumpOf({ name: 7 })]) {
      expect(parseRoutesDump(junk).ok).toBe(false);
    }
  });
});
