import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseEcdsDump, renderEcdsTable } from '../../../lib/core/proxy-config/ecds-dump.ts';
import { renderGoYaml, resolvesToOtherType, goYamlKeyLess } from '../../../lib/core/proxy-config/go-yaml.ts';
import { renderDumpAsGiven, renderIstioctlMessage, renderIstioctlMessages } from '../../../lib/core/proxy-config/istioctl-output.ts';
import { jsonDataTree } from '../../../lib/core/proxy-config/proto-json-tree.ts';
import { bootstrapSectionOf } from '../../../lib/core/proxy-config/bootstrap-summary.ts';
import type { Evidence } from '../../../lib/core/result.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/proxy-config/${name}`, import.meta.url), 'utf8');

function text(rendered: Evidence<string>): string {
  if (!rendered.ok) throw new Error(`expected output, got: ${rendered.reason}`);
  return rendered.value;
}

const yamlOf = (value: unknown): string => renderGoYaml(jsonDataTree(value));

describe("istioctl's -o json and -o yaml", () => {
  it('prints the ECDS filters as istioctl 1.26–1.29 does: table, json and yaml (upstream testdata/ecds/output.*)', () => {
    const parsed = parseEcdsDump(fixture('ecds-config-dump.json'));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(renderEcdsTable(parsed.value.filters)).toBe(fixture('ecds-output.txt'));
    expect(text(renderIstioctlMessage(parsed.value.message, 'json', 'protojson'))).toBe(fixture('ecds-output.json'));
    expect(text(renderIstioctlMessage(parsed.value.message, 'yaml', 'protojson'))).toBe(fixture('ecds-output-1.26.yaml'));
  });

  it("writes one message in jsonpb's own layout: a Struct two levels in, one more at each nesting", () => {
    const bootstrap = bootstrapSectionOf(fixture('waypoint-config-dump.json'));
    expect(text(renderIstioctlMessage(bootstrap, 'json'))).toBe(fixture('waypoint-bootstrap.golden.json'));
    expect(text(renderIstioctlMessage(bootstrap, 'yaml'))).toBe(fixture('waypoint-bootstrap.golden.yaml'));
    expect(text(renderIstioctlMessage({ a: {} }, 'json'))).toBe('{\n    "a": {\n\n    }\n}\n');
  });

  it('names fields in camelCase but keeps the keys of maps and Structs, sorted as Go sorts map keys', () => {
    const cluster = {
      '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      name: 'outbound|80||a.ns.svc.cluster.local',
      transport_socket_matches: [{ name: 'tlsMode-istio', match: { tlsMode: 'istio', a_b: 1 } }],
      metadata: { filter_metadata: { istio: { z_key: 1, a_key: { b_c: 2 } } } },
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { use_downstream_protocol_config: { http2_protocol_options: {} } },
      },
      lb_subset_config: { default_subset: { some_label: 'x' } },
    };
    const json = JSON.parse(text(renderIstioctlMessages([cluster], 'json'))) as Record<string, unknown>[];
    expect(json).toEqual([
      {
        name: 'outbound|80||a.ns.svc.cluster.local',
        transportSocketMatches: [{ name: 'tlsMode-istio', match: { a_b: 1, tlsMode: 'istio' } }],
        metadata: { filterMetadata: { istio: { a_key: { b_c: 2 }, z_key: 1 } } },
        typedExtensionProtocolOptions: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { useDownstreamProtocolConfig: { http2ProtocolOptions: {} } },
        },
        lbSubsetConfig: { defaultSubset: { some_label: 'x' } },
      },
    ]);
    // Struct members in Go's key order, not the dump's.
    expect(text(renderIstioctlMessages([cluster], 'json'))).toMatch(/"a_key": \{[^}]*\}\s*\},?\s*"z_key"|"a_key"[\s\S]*"z_key"/);
  });

  it("keeps the bootstrap node's metadata, a TypedStruct's value and a Struct Any's value as written", () => {
    const message = {
      node: { id: 'x', metadata: { LABELS: { 'app.kubernetes.io/name': 'a' }, PROXY_CONFIG: { proxy_stats_matcher: {} } } },
      filter: { typed_config: { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', type_url: 't', value: { stat_prefix: 'p' } } },
      other: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { snake_key: true } },
    };
    expect(JSON.parse(text(renderIstioctlMessage(message, 'json')))).toEqual({
      node: { id: 'x', metadata: { LABELS: { 'app.kubernetes.io/name': 'a' }, PROXY_CONFIG: { proxy_stats_matcher: {} } } },
      filter: { typedConfig: { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', typeUrl: 't', value: { stat_prefix: 'p' } } },
      other: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { snake_key: true } },
    });
  });

  it('escapes HTML characters as Go does', () => {
    expect(text(renderIstioctlMessages([{ name: '<a&b>\u2028' }], 'json'))).toBe(
      '[\n    {\n        "name": "\\u003ca\\u0026b\\u003e\\u2028"\n    }\n]\n',
    );
  });

  it('prints YAML that reads back as the JSON it prints, for every listener, route and cluster of a real dump', () => {
    const dump = JSON.parse(fixture('waypoint-config-dump.json')) as { configs: Record<string, unknown[]>[] };
    const messages = dump.configs.flatMap((section) => Object.values(section).flatMap((v) => (Array.isArray(v) ? v : [])));
    const json = JSON.parse(text(renderIstioctlMessages(messages, 'json'))) as unknown;
    expect(load(text(renderIstioctlMessages(messages, 'yaml')))).toEqual(json);
  });

  it('prints the whole dump as given for all -o json, and as YAML with its own names for -o yaml', () => {
    expect(text(renderDumpAsGiven('{"configs": []}', { configs: [] }, 'json'))).toBe('{"configs": []}\n');
    expect(text(renderDumpAsGiven('', { configs: [{ version_info: '1' }] }, 'yaml'))).toBe('configs:\n- version_info: "1"\n\n');
  });

  it('refuses input nested deeper than any Envoy configuration, without throwing', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(renderIstioctlMessage(deep, 'json')).toMatchObject({ ok: false, reason: expect.stringContaining('nests deeper') });
    expect(renderIstioctlMessages([deep], 'yaml').ok).toBe(false);
    expect(renderDumpAsGiven('', deep, 'yaml').ok).toBe(false);
    expect(text(renderIstioctlMessages([null, 3, 'x', [], {}], 'json'))).toBe('[\n    null,\n    3,\n    "x",\n    [],\n    {}\n]\n');
  });
});

describe("go-yaml v2's layout (sigs.k8s.io/yaml)", () => {
  it('orders keys as its sorter does: other runes before letters, digit runs by value', () => {
    const keys = ['b', 'a10', 'a2', 'a', '1', '_', 'B'];
    expect([...keys].sort((x, y) => (goYamlKeyLess(x, y) ? -1 : goYamlKeyLess(y, x) ? 1 : 0))).toEqual([
      '_',
      '1',
      'B',
      'a',
      'a2',
      'a10',
      'b',
    ]);
  });

  it('double quotes what YAML 1.1 reads as another type, and only that', () => {
    for (const s of [
      '80',
      '-1',
      '0x1F',
      '0o17',
      '1_000',
      '1.5',
      '.5',
      '1e3',
      '1:20',
      'true',
      'on',
      'No',
      'y',
      '~',
      'null',
      '',
      '2023-05-15T01:32:52.262Z',
      '2024-01-02',
    ])
      expect([s, resolvesToOtherType(s)]).toEqual([s, true]);
    for (const s of ['outbound|80||a', 'HEALTHY', '2022-12-08T09:07:09Z/10', '.foo', 'v1', '10.0.0.1', 'yes-no', '1.2.3'])
      expect([s, resolvesToOtherType(s)]).toEqual([s, false]);
  });

  it('single quotes a string that cannot be plain, double quotes one with a control character, and writes a multi-line one as a literal block', () => {
    expect(yamlOf({ k: '@type' })).toBe("k: '@type'\n\n");
    expect(yamlOf({ k: 'a: b' })).toBe("k: 'a: b'\n\n");
    expect(yamlOf({ k: "it's" })).toBe("k: it's\n\n");
    expect(yamlOf({ k: "'q'" })).toBe("k: '''q'''\n\n");
    expect(yamlOf({ k: ' lead' })).toBe("k: ' lead'\n\n");
    expect(yamlOf({ k: '-' })).toBe("k: '-'\n\n");
    expect(yamlOf({ k: '-x' })).toBe('k: -x\n\n');
    expect(yamlOf({ k: 'tab\there' })).toBe('k: "tab\\there"\n\n');
    expect(yamlOf({ k: 'line 1\nline 2' })).toBe('k: |-\n  line 1\n  line 2\n\n');
    expect(yamlOf({ k: 'line\n' })).toBe('k: |\n  line\n\n');
    expect(yamlOf({ k: 'line\n\n' })).toBe('k: |+\n  line\n\n\n');
    expect(yamlOf({ k: ['a', { b: [1, 2] }], e: [], m: {} })).toBe('e: []\nk:\n- a\n- b:\n  - 1\n  - 2\nm: {}\n\n');
  });

  it('writes numbers as Go does, and folds a long plain string at a space past column 80', () => {
    expect(yamlOf([140, 0.5, 1e-7, 1234567.5, true, null])).toBe('- 140\n- 0.5\n- 1e-07\n- 1.2345675e+06\n- true\n- null\n\n');
    const words = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');
    const folded = yamlOf({ key: words });
    expect(folded.split('\n')[0]!.length).toBeGreaterThan(80);
    expect(folded).toMatch(/^key: word0 [^\n]+\n {2}word\d+/);
    expect(load(folded)).toEqual({ key: words });
  });
});
