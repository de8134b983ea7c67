import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { istioctlClusterMessages, istioctlClusterOrder, renderClustersTable } from '../../../lib/core/proxy-config/clusters-table.ts';
import { goTabwriter } from '../../../lib/core/render/go-tabwriter.ts';
import { parseClusterName } from '../../../lib/core/proxy-config/cluster-name.ts';
import { parseClustersDump, type ClusterEntry } from '../../../lib/core/proxy-config/clusters-dump.ts';
import { parseSecretsDump, type SecretEntry } from '../../../lib/core/proxy-config/secrets-dump.ts';
import { renderIstioctlMessage } from '../../../lib/core/proxy-config/istioctl-output.ts';
import { NO_SECRETS_MESSAGE, renderSecretsTable } from '../../../lib/core/proxy-config/secrets-table.ts';
import type { Evidence } from '../../../lib/core/result.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/proxy-config/${name}`, import.meta.url), 'utf8');

function value<T>(evidence: Evidence<T>): T {
  if (!evidence.ok) throw new Error(`expected evidence, got: ${evidence.reason}`);
  return evidence.value;
}

// After the default certificate expired (2023-05-16) and before the root does (2033-05-02).
const NOW = new Date('2024-06-01T00:00:00Z');
const secrets = (): SecretEntry[] => value(parseSecretsDump(fixture('secret-config-dump.json'))).secrets;

describe('goTabwriter', () => {
  it("aligns per column block, as in the example of Go's text/tabwriter documentation", () => {
    const text = 'aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n';
    expect(goTabwriter(text, { minwidth: 0, padding: 1 })).toBe('aaaa bbb d\naa   b   dd\na    \naa   cccc eee\n');
  });

  it('ends column blocks at a line without tabs, and leaves the last cell of a line unpadded', () => {
    expect(goTabwriter('a\tb\tc\naaaa\tb\n\nx\ty\n', { minwidth: 0, padding: 1 })).toBe('a    b c\naaaa b\n\nx y\n');
    expect(goTabwriter('ab\tc', { minwidth: 4, padding: 1 })).toBe('ab  c');
    // A trailing tab at the very end of the input ends no cell (Go's Flush only terminates a non-empty one).
    expect(goTabwriter('a\tb\nxyz\t', { minwidth: 0, padding: 1 })).toBe('a b\nxyz');
  });

  it('counts code points, not UTF-16 units', () => {
    expect(goTabwriter('😀\tx\nab\ty\n', { minwidth: 0, padding: 1 })).toBe('😀  x\nab y\n');
  });
});

describe('renderSecretsTable', () => {
  it("prints istioctl 1.24's secret table byte for byte", () => {
    expect(renderSecretsTable(secrets(), NOW, { version: '1.24' })).toBe(fixture('secret-output.txt'));
  });

  it('decides VALID CERT at the given time', () => {
    const table = renderSecretsTable(secrets(), new Date('2023-05-15T12:00:00Z'));
    expect(table.split('\n')[1]).toMatch(/^default\s+Cert Chain\s+ACTIVE\s+true\s/);
  });

  it('prints WARMING and UNINITIALIZED, and blank cells for a secret without a readable certificate', () => {
    const [leaf, root] = secrets();
    const rows: SecretEntry[] = [
      { ...leaf!, status: 'WARMING' },
      { ...root!, resourceName: 'file-root:/etc/certs/root-cert.pem' },
      {
        resourceName: 'default',
        status: 'UNINITIALIZED',
        type: undefined,
        kind: 'none',
        versionInfo: 'uninitialized',
        lastUpdated: undefined,
        certificates: [],
        primary: undefined,
        trustDomain: undefined,
        trustBundles: [],
        problems: [],
      },
    ];
    expect(renderSecretsTable(rows, NOW, { version: '1.24' })).toBe(
      [
        'RESOURCE NAME                          TYPE           STATUS            VALID CERT     SERIAL NUMBER                        NOT AFTER                NOT BEFORE',
        'default                                Cert Chain     WARMING           false          6fbee254c22900615cb1f74e3d2f1713     2023-05-16T01:32:52Z     2023-05-15T01:30:52Z',
        'file-root:/etc/certs/root-cert.pem     CA             ACTIVE            true           193a543fe2b0d9cd4847675394dfc54      2033-05-02T03:41:33Z     2023-05-05T03:41:33Z',
        'default                                               UNINITIALIZED     false                                                                        ',
        '',
      ].join('\n'),
    );
  });

  it('says so when there is no secret', () => {
    expect(renderSecretsTable([], NOW)).toBe(NO_SECRETS_MESSAGE);
  });

  it("prints the SecretsConfigDump as istioctl's jsonpb does with -o json: camelCase names, Envoy's redaction kept", () => {
    const rendered = renderIstioctlMessage(
      value(parseSecretsDump(fixture('secret-config-dump.json'), { keepMessage: true })).message,
      'json',
    );
    const json = rendered.ok ? rendered.value : rendered.reason;
    const parsed = JSON.parse(json) as { dynamicActiveSecrets: { name: string; secret: Record<string, unknown> }[] };
    expect(parsed.dynamicActiveSecrets.map((s) => s.name)).toEqual(['default', 'ROOTCA']);
    expect(parsed.dynamicActiveSecrets[0]!.secret['@type']).toBe('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret');
    expect(json).toContain('"privateKey": {\n');
    expect(json).toContain('"inlineBytes": "W3JlZGFjdGVkXQ=="'); // Envoy's own "[redacted]"
    expect(json).not.toMatch(/"[a-z]+_[a-z_]+":/);
  });
});

describe('renderClustersTable', () => {
  const waypoint = (): ClusterEntry[] => value(parseClustersDump(fixture('waypoint-config-dump.json'))).clusters;

  it('matches the golden of the waypoint dump', () => {
    expect(renderClustersTable(waypoint())).toBe(fixture('waypoint-clusters.golden.txt'));
  });

  it('reproduces the clusters part of istioctl proxy-config all byte for byte, with the NAME column', () => {
    const summary = fixture('waypoint-config-dump-summary.txt');
    const block = summary.split('\n\n')[1];
    expect(renderClustersTable(waypoint(), { withConfigType: true })).toBe(`${block}\n`);
  });

  it("has the header and rows of istioctl's summary, without its NAME column", () => {
    const cells = (line: string): string[] => line.trimEnd().split(/ {2,}/);
    const summaryRows = fixture('waypoint-config-dump-summary.txt').split('\n\n')[1]!.split('\n').map(cells);
    const ours = renderClustersTable(waypoint()).trimEnd().split('\n').map(cells);
    expect(ours[0]).toEqual(['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE']);
    expect(ours[0]).toEqual(summaryRows[0]!.slice(1));
    const unprefixed = summaryRows.slice(1).map((row) => row.slice(1).map((cell) => cell.replace(/^cluster\//, '')));
    expect(ours.slice(1)).toEqual(unprefixed);
  });

  it("matches the golden of a sidecar's clusters", () => {
    const clusters = value(parseClustersDump(fixture('sidecar-clusters-active.json'))).clusters;
    const table = renderClustersTable(clusters);
    expect(table).toBe(fixture('sidecar-clusters.golden.txt'));
    expect(table).toMatch(/\nistiod\.istio-system\.svc\.cluster\.local +15012 +- +outbound +EDS +\n/);
  });

  it('leaves warming clusters out of the table and of -o json, as istioctl does, but lists a warming answer', () => {
    const clusters: ClusterEntry[] = [
      { ...entry('outbound|80||a.ns.svc.cluster.local', 'active'), message: { name: 'a' } },
      { ...entry('outbound|80||b.ns.svc.cluster.local', 'warming'), message: { name: 'b' } },
    ];
    expect(renderClustersTable(clusters)).not.toContain('b.ns');
    expect(istioctlClusterMessages(clusters)).toEqual([{ name: 'a' }]);
    expect(istioctlClusterMessages(clusters.slice(1))).toEqual([{ name: 'b' }]);
  });

  it('sorts by FQDN, subset, port (as a number) and direction, comparing strings by UTF-8 bytes', () => {
    const names = ['outbound|9080|v2|r', 'outbound|9080|v1|r', 'outbound|80|v1|r', 'inbound|80|v1|r', 'a', '\u{1F600}', '\uFF5E'];
    const order = istioctlClusterOrder(names.map((n) => entry(n, 'active'))).map((c) => c.name);
    expect(order).toEqual(['a', 'inbound|80|v1|r', 'outbound|80|v1|r', 'outbound|9080|v1|r', 'outbound|9080|v2|r', '\uFF5E', '\u{1F600}']);
  });

  it('prints the header alone when there is no cluster', () => {
    expect(renderClustersTable([])).toBe('SERVICE FQDN     PORT     SUBSET     DIRECTION     TYPE     DESTINATION RULE\n');
  });
});

function entry(name: string, state: ClusterEntry['state']): ClusterEntry {
  return {
    name,
    type: 'EDS',
    customType: undefined,
    state,
    ...parseClusterName(name),
    destinationRule: '',
    versionInfo: undefined,
    lastUpdated: undefined,
  };
}
