import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatSerialHex,
  isCertificateValidAt,
  normalizeFingerprint,
  parsePemCertificates,
  parseSerialNumber,
} from '../../../lib/core/certificates/pem.ts';
import { parseClusterName } from '../../../lib/core/proxy-config/cluster-name.ts';
import { parseClustersDump, type ClustersDump } from '../../../lib/core/proxy-config/clusters-dump.ts';
import { parseSecretsDump } from '../../../lib/core/proxy-config/secrets-dump.ts';
import type { Evidence } from '../../../lib/core/result.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/proxy-config/${name}`, import.meta.url), 'utf8');
const SECRET_DUMP = fixture('secret-config-dump.json');
const WAYPOINT_DUMP = fixture('waypoint-config-dump.json');
const SIDECAR_CLUSTERS = fixture('sidecar-clusters-active.json');

const DYNAMIC_SECRET = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret';
const DYNAMIC_CLUSTER = 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster';
const STATIC_CLUSTER = 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster';

function value<T>(evidence: Evidence<T>): T {
  if (!evidence.ok) throw new Error(`expected evidence, got: ${evidence.reason}`);
  return evidence.value;
}

/** The DynamicSecret entries of the sample, as Envoy answers `?resource=dynamic_active_secrets`. */
function secretsAsResourceAnswer(patch: (entry: Record<string, unknown>) => Record<string, unknown> = (e) => e): string {
  const dump = JSON.parse(SECRET_DUMP) as { configs: { dynamic_active_secrets: Record<string, unknown>[] }[] };
  const entries = dump.configs[0]!.dynamic_active_secrets.map((e) =>
    patch({ '@type': DYNAMIC_SECRET, version_info: '2023-05-15T01:32:52Z/6', ...e }),
  );
  return JSON.stringify({ configs: entries });
}

const stringify = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

describe('parseSecretsDump', () => {
  it('reads the default chain and ROOTCA of a full config dump', () => {
    const dump = value(parseSecretsDump(SECRET_DUMP));
    expect(dump.shape).toBe('config-dump');
    expect(dump.problems).toEqual([]);
    const [leaf, root] = dump.secrets;
    expect(leaf).toMatchObject({
      resourceName: 'default',
      status: 'ACTIVE',
      type: 'Cert Chain',
      kind: 'tls_certificate',
      lastUpdated: '2023-05-15T01:32:52.262Z',
      problems: [],
    });
    expect(leaf!.certificates).toHaveLength(2);
    expect(leaf!.primary).toBe(leaf!.certificates[0]);
    expect(leaf!.primary).toMatchObject({
      serialNumber: 0x6fbee254c22900615cb1f74e3d2f1713n,
      subject: '',
      issuer: 'O=cluster.local',
      isCa: false,
      sanUris: ['spiffe://cluster.local/ns/ambient/sa/namespace-istio-waypoint'],
      sha256Fingerprint: '4dbe456bbd83bd4432aebc2d1d84e2d804ec29c314dab4353df93f5266c0c154',
    });
    expect(leaf!.primary!.notBefore.toISOString()).toBe('2023-05-15T01:30:52.000Z');
    expect(leaf!.primary!.notAfter.toISOString()).toBe('2023-05-16T01:32:52.000Z');
    expect(leaf!.primary!.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    expect(root).toMatchObject({ resourceName: 'ROOTCA', status: 'ACTIVE', type: 'CA', kind: 'validation_context' });
    expect(root!.primary).toMatchObject({
      serialNumber: 0x193a543fe2b0d9cd4847675394dfc54n,
      subject: 'O=cluster.local',
      isCa: true,
      sanUris: [],
    });
    // The chain's second certificate is the root itself.
    expect(leaf!.certificates[1]!.sha256Fingerprint).toBe(root!.primary!.sha256Fingerprint);
  });

  it('never keeps the private key, not even Envoy\'s "[redacted]" placeholder', () => {
    const kept = stringify(value(parseSecretsDump(SECRET_DUMP)));
    expect(SECRET_DUMP).toContain('W3JlZGFjdGVkXQ==');
    expect(kept).not.toContain('W3JlZGFjdGVkXQ==');
    expect(kept).not.toContain('redacted');
    expect(kept).not.toContain('private_key');
  });

  it('reads a ?resource=dynamic_active_secrets answer, and a warming one when told', () => {
    const active = value(parseSecretsDump(secretsAsResourceAnswer()));
    expect(active.shape).toBe('resource');
    expect(active.secrets.map((s) => [s.resourceName, s.status, s.type, s.versionInfo])).toEqual([
      ['default', 'ACTIVE', 'Cert Chain', '2023-05-15T01:32:52Z/6'],
      ['ROOTCA', 'ACTIVE', 'CA', '2023-05-15T01:32:52Z/6'],
    ]);
    const warming = value(parseSecretsDump(secretsAsResourceAnswer(), { resource: 'dynamic_warming_secrets' }));
    expect(warming.secrets.map((s) => s.status)).toEqual(['WARMING', 'WARMING']);
  });

  it('marks an active secret Envoy has not received yet as UNINITIALIZED', () => {
    const text = secretsAsResourceAnswer((e) =>
      e.name === 'default' ? { '@type': DYNAMIC_SECRET, name: 'default', version_info: 'uninitialized' } : e,
    );
    const [pending, root] = value(parseSecretsDump(text)).secrets;
    expect(pending).toMatchObject({
      resourceName: 'default',
      status: 'UNINITIALIZED',
      type: undefined,
      kind: 'none',
      certificates: [],
      primary: undefined,
    });
    expect(root!.status).toBe('ACTIVE');
  });

  it('lists warming secrets before active ones, as istioctl does', () => {
    const dump = JSON.parse(SECRET_DUMP) as { configs: Record<string, unknown[]>[] };
    const section = dump.configs[0]!;
    section.dynamic_warming_secrets = [section.dynamic_active_secrets![0]!];
    section.dynamic_active_secrets = [section.dynamic_active_secrets![1]!];
    const secrets = value(parseSecretsDump(JSON.stringify(dump))).secrets;
    expect(secrets.map((s) => `${s.resourceName}:${s.status}`)).toEqual(['default:WARMING', 'ROOTCA:ACTIVE']);
  });

  it('finds the secrets section among the other sections of a complete dump', () => {
    const dump = value(parseSecretsDump(WAYPOINT_DUMP));
    expect(dump.secrets.map((s) => s.resourceName)).toEqual(['default', 'ROOTCA']);
  });

  it('reads a bare SecretsConfigDump, as `istioctl proxy-config secret -o json` prints it', () => {
    const section = (JSON.parse(SECRET_DUMP) as { configs: object[] }).configs[0];
    const dump = value(parseSecretsDump(JSON.stringify(section)));
    expect(dump.shape).toBe('config-dump');
    expect(dump.secrets.map((s) => s.resourceName)).toEqual(['default', 'ROOTCA']);
  });

  it('gives an empty list for {} and {"configs":[]} (Envoy\'s answer when there are none)', () => {
    for (const text of ['{}', '{"configs":[]}', '{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.SecretsConfigDump"}]}']) {
      const dump = value(parseSecretsDump(text));
      expect(dump.secrets).toEqual([]);
    }
    expect(value(parseSecretsDump('{}')).shape).toBe('empty');
  });

  it('refuses a dump without secrets, and text that is not a config dump', () => {
    expect(parseSecretsDump(SIDECAR_CLUSTERS)).toEqual({
      ok: false,
      reason: expect.stringMatching(/holds no secrets: no SecretsConfigDump among its configs \(ClustersConfigDump.DynamicCluster\)/),
    });
    expect(parseSecretsDump(SECRET_DUMP.slice(0, SECRET_DUMP.length / 2))).toEqual({
      ok: false,
      reason: expect.stringMatching(/is not JSON/),
    });
    expect(parseSecretsDump('')).toEqual({ ok: false, reason: expect.stringMatching(/is empty/) });
    for (const text of ['null', '[]', '42', '"configs"', '{"configs":{}}', '{"kind":"Pod"}']) {
      expect(parseSecretsDump(text).ok, text).toBe(false);
    }
  });

  it('keeps a secret whose certificate cannot be read, with the reason, and never decodes a key block', () => {
    const keyPem = '-----BEGIN PRIVATE KEY-----\nTUlJQ0tFWQ==\n-----END PRIVATE KEY-----\n';
    const text = JSON.stringify({
      configs: [
        {
          '@type': DYNAMIC_SECRET,
          name: 'garbage',
          secret: { tls_certificate: { certificate_chain: { inline_bytes: '!!not base64!!' } } },
        },
        {
          '@type': DYNAMIC_SECRET,
          name: 'key-only',
          secret: { tls_certificate: { certificate_chain: { inline_bytes: Buffer.from(keyPem).toString('base64') } } },
        },
        {
          '@type': DYNAMIC_SECRET,
          name: 'bad-der',
          secret: {
            validation_context: { trusted_ca: { inline_string: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } },
          },
        },
        { '@type': DYNAMIC_SECRET, secret: {} },
      ],
    });
    const dump = value(parseSecretsDump(text));
    expect(dump.problems).toEqual(['resource entry 4 has no name: skipped']);
    const [garbage, keyOnly, badDer] = dump.secrets;
    expect(garbage).toMatchObject({ type: undefined, primary: undefined, certificates: [] });
    expect(garbage!.problems).toContain('inline_bytes is not base64');
    expect(keyOnly!.problems).toEqual(['PEM block 1 is a PRIVATE KEY block, not a certificate']);
    expect(stringify(keyOnly)).not.toContain('TUlJQ0tFWQ');
    expect(badDer!.problems).toEqual(['PEM block 1 is not a readable X.509 certificate']);
  });

  it('never throws, whatever the text', () => {
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0x80, 0x0a]).toString('latin1');
    for (const text of [
      binary,
      '\u0000',
      '{"configs":[null, 1, "x", {"@type": 5}]}',
      '{"configs":[{"@type":"' + DYNAMIC_SECRET + '","name":"x","secret":"y"}]}',
    ]) {
      expect(() => parseSecretsDump(text)).not.toThrow();
    }
    fc.assert(
      fc.property(fc.string(), (text) => {
        parseSecretsDump(text);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.json(), (text) => {
        parseSecretsDump(text);
        parseSecretsDump(`{"configs":[${text}]}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('serial numbers', () => {
  const leafSerial = (): bigint => value(parseSecretsDump(SECRET_DUMP)).secrets[0]!.primary!.serialNumber;

  it('compare equal as numbers whether printed in decimal, hex or zero-padded hex', () => {
    const decimal = parseSerialNumber(BigInt('0x6fbee254c22900615cb1f74e3d2f1713').toString(10), 'decimal');
    const hex = parseSerialNumber('6fbee254c22900615cb1f74e3d2f1713', 'hex');
    const padded = parseSerialNumber('006FBEE254C22900615CB1F74E3D2F1713', 'hex');
    const colons = parseSerialNumber('6f:be:e2:54:c2:29:00:61:5c:b1:f7:4e:3d:2f:17:13', 'hex');
    expect(decimal).toBe(leafSerial());
    expect(hex).toBe(decimal);
    expect(padded).toBe(decimal);
    expect(colons).toBe(decimal);
    // ROOTCA's serial starts with a zero nibble: istioctl 1.24 prints 31 digits, node:crypto 32.
    expect(parseSerialNumber('193a543fe2b0d9cd4847675394dfc54', 'hex')).toBe(parseSerialNumber('0193A543FE2B0D9CD4847675394DFC54', 'hex'));
  });

  it('refuses text that is not a serial in the notation', () => {
    expect(parseSerialNumber('6f', 'decimal')).toBeUndefined();
    expect(parseSerialNumber('xyz', 'hex')).toBeUndefined();
    expect(parseSerialNumber('', 'hex')).toBeUndefined();
  });

  it('print as istioctl 1.24 does: lowercase hex without leading zeros', () => {
    expect(formatSerialHex(0x0193a543fe2b0d9cd4847675394dfc54n)).toBe('193a543fe2b0d9cd4847675394dfc54');
    expect(formatSerialHex(0n)).toBe('0');
    expect(formatSerialHex(-255n)).toBe('-ff');
  });
});

describe('certificates', () => {
  it('are valid strictly between NOT BEFORE and NOT AFTER', () => {
    const leaf = value(parseSecretsDump(SECRET_DUMP)).secrets[0]!.primary!;
    expect(isCertificateValidAt(leaf, new Date('2023-05-15T12:00:00Z'))).toBe(true);
    expect(isCertificateValidAt(leaf, leaf.notAfter)).toBe(false);
    expect(isCertificateValidAt(leaf, leaf.notBefore)).toBe(false);
    expect(isCertificateValidAt(leaf, new Date('2024-01-01T00:00:00Z'))).toBe(false);
  });

  it('parse from a PEM file such as /etc/certs/root-cert.pem, fingerprints in any spelling', () => {
    const root = value(parseSecretsDump(SECRET_DUMP)).secrets[1]!.primary!;
    const read = parsePemCertificates(`# comment\n${root.pem}\n${root.pem}`);
    expect(read.problems).toEqual([]);
    expect(read.certificates).toHaveLength(2);
    expect(read.primary?.sha256Fingerprint).toBe(root.sha256Fingerprint);
    expect(normalizeFingerprint('44:AA:78:38:AA:CD:EB:F7:83:F1:04:AD:39:ED:06:AB:02:88:F8:DC:37:FE:32:BA:75:3B:7F:6D:09:99:2A:CB')).toBe(
      root.sha256Fingerprint,
    );
    expect(parsePemCertificates('no pem here').problems).toEqual(['no PEM block found']);
  });
});

describe('parseClustersDump', () => {
  it('reads the static and dynamic active clusters of a complete dump', () => {
    const dump = value(parseClustersDump(WAYPOINT_DUMP));
    expect(dump.shape).toBe('config-dump');
    expect(dump.problems).toEqual([]);
    expect(dump.clusters.map((c) => [c.name, c.state, c.type])).toEqual([
      ['agent', 'static', 'STATIC'],
      ['prometheus_stats', 'static', 'STATIC'],
      ['inbound-vip|8000|http|httpbin.default.svc.cluster.local', 'active', 'EDS'],
    ]);
    expect(dump.clusters[2]).toMatchObject({
      isSubsetKey: true,
      serviceFqdn: 'httpbin.default.svc.cluster.local',
      port: 8000,
      subset: 'http',
      direction: 'inbound-vip',
      destinationRule: '',
    });
    expect(dump.clusters[0]).toMatchObject({
      isSubsetKey: false,
      serviceFqdn: 'agent',
      port: undefined,
      subset: undefined,
      direction: undefined,
    });
  });

  it("reads a sidecar's control-plane cluster from a ?resource=dynamic_active_clusters&mask=… answer", () => {
    const dump = value(parseClustersDump(SIDECAR_CLUSTERS));
    expect(dump.shape).toBe('resource');
    expect(dump.clusters).toHaveLength(32);
    const istiod = dump.clusters.find((c) => c.name === 'outbound|15012||istiod.istio-system.svc.cluster.local');
    expect(istiod).toMatchObject({
      direction: 'outbound',
      port: 15012,
      subset: '',
      serviceFqdn: 'istiod.istio-system.svc.cluster.local',
      type: 'EDS',
      state: 'active',
    });
    expect(dump.clusters.find((c) => c.name === 'inbound|9080||')).toMatchObject({ direction: 'inbound', port: 9080, serviceFqdn: '' });
  });

  it('takes the state of DynamicCluster entries from the caller, and StaticCluster entries as static', () => {
    const text = JSON.stringify({
      configs: [
        { '@type': DYNAMIC_CLUSTER, cluster: { name: 'outbound|15012||istiod.istio-system.svc.cluster.local', type: 'EDS' } },
        { '@type': STATIC_CLUSTER, cluster: { name: 'agent' } },
      ],
    });
    expect(value(parseClustersDump(text)).clusters.map((c) => c.state)).toEqual(['active', 'static']);
    expect(value(parseClustersDump(text, { resource: 'dynamic_warming_clusters' })).clusters.map((c) => c.state)).toEqual([
      'warming',
      'static',
    ]);
  });

  it('reads warming clusters of a full dump', () => {
    const text = JSON.stringify({
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
          dynamic_warming_clusters: [
            {
              version_info: 'v2',
              cluster: { name: 'outbound|80||a.b.svc.cluster.local', type: 'EDS' },
              last_updated: '2024-01-01T00:00:00Z',
            },
          ],
        },
      ],
    });
    expect(value(parseClustersDump(text)).clusters[0]).toMatchObject({
      state: 'warming',
      versionInfo: 'v2',
      lastUpdated: '2024-01-01T00:00:00Z',
    });
  });

  it('prints the discovery type as istioctl does: STATIC when left out or custom, names for numbers', () => {
    const text = JSON.stringify({
      configs: [
        { '@type': DYNAMIC_CLUSTER, cluster: { name: 'masked-static' } },
        { '@type': DYNAMIC_CLUSTER, cluster: { name: 'aggregate', cluster_type: { name: 'envoy.clusters.aggregate' } } },
        { '@type': DYNAMIC_CLUSTER, cluster: { name: 'numbered', type: 1 } },
        { '@type': DYNAMIC_CLUSTER, cluster: { name: 'future', type: 9 } },
      ],
    });
    expect(value(parseClustersDump(text)).clusters.map((c) => [c.type, c.customType])).toEqual([
      ['STATIC', undefined],
      ['STATIC', 'envoy.clusters.aggregate'],
      ['STRICT_DNS', undefined],
      ['9', undefined],
    ]);
  });

  it('names the DestinationRule a cluster came from as istioctl 1.24+ does, whatever its API version', () => {
    const withConfig = (config: unknown): unknown => ({
      '@type': DYNAMIC_CLUSTER,
      cluster: { name: 'c', metadata: { filter_metadata: { istio: { config } } } },
    });
    const text = JSON.stringify({
      configs: [
        withConfig('/apis/networking.istio.io/v1/namespaces/bookinfo/destination-rule/ratings'),
        withConfig('/apis/networking.istio.io/v1beta1/namespaces/prod/destination-rule/db'),
        withConfig('/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule/reviews'),
        withConfig('/apis/networking.istio.io/v1alpha3/namespaces/default/destination-rule'),
        withConfig('/apis/other/x'),
        withConfig(7),
        { '@type': DYNAMIC_CLUSTER, cluster: { name: 'c', metadata: { filter_metadata: { istio: { services: [] } } } } },
      ],
    });
    expect(value(parseClustersDump(text)).clusters.map((c) => c.destinationRule)).toEqual([
      'ratings.bookinfo',
      'db.prod',
      'reviews.default',
      '',
      '<unknown>',
      '<unknown>',
      '',
    ]);
  });

  it('reads a bare ClustersConfigDump', () => {
    const section = (JSON.parse(WAYPOINT_DUMP) as { configs: { '@type': string }[] }).configs.find((c) =>
      c['@type'].endsWith('ClustersConfigDump'),
    );
    expect(value(parseClustersDump(JSON.stringify(section))).clusters).toHaveLength(3);
  });

  it('gives an empty list for {}, and refuses dumps without clusters and text that is not a dump', () => {
    expect(value(parseClustersDump('{}'))).toEqual({ shape: 'empty', clusters: [], problems: [] } satisfies ClustersDump);
    expect(value(parseClustersDump('{"configs":[]}')).clusters).toEqual([]);
    expect(parseClustersDump(SECRET_DUMP)).toEqual({
      ok: false,
      reason: expect.stringMatching(/holds no clusters: no ClustersConfigDump among its configs \(SecretsConfigDump\)/),
    });
    expect(parseClustersDump(WAYPOINT_DUMP.slice(0, 5000)).ok).toBe(false);
    expect(parseClustersDump('<html>502 Bad Gateway</html>').ok).toBe(false);
  });

  it('skips entries without a cluster name, saying so, and never throws', () => {
    const text = JSON.stringify({
      configs: [
        { '@type': DYNAMIC_CLUSTER, cluster: { type: 'EDS' } },
        { '@type': DYNAMIC_CLUSTER, cluster: { name: 'ok' } },
      ],
    });
    const dump = value(parseClustersDump(text));
    expect(dump.clusters.map((c) => c.name)).toEqual(['ok']);
    expect(dump.problems).toEqual(['configs entry 1 has no cluster name: skipped']);
    fc.assert(
      fc.property(fc.string(), (t) => {
        parseClustersDump(t);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.json(), (t) => {
        parseClustersDump(t);
        parseClustersDump(`{"configs":[{"@type":"${DYNAMIC_CLUSTER}","cluster":${t}}]}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseClusterName', () => {
  it('splits Istio subset keys and leaves other names whole', () => {
    expect(parseClusterName('outbound|9080|v2|reviews.default.svc.cluster.local')).toEqual({
      isSubsetKey: true,
      direction: 'outbound',
      port: 9080,
      subset: 'v2',
      serviceFqdn: 'reviews.default.svc.cluster.local',
    });
    expect(parseClusterName('BlackHoleCluster')).toEqual({
      isSubsetKey: false,
      serviceFqdn: 'BlackHoleCluster',
      port: undefined,
      subset: undefined,
      direction: undefined,
    });
    // Not enough `|` for istioctl to read it as a key.
    expect(parseClusterName('outbound|9080|reviews').isSubsetKey).toBe(false);
    // DNS SRV form: only read as a key when it also holds three `|`.
    expect(parseClusterName('outbound_.9080_.v1_.reviews.default.svc.cluster.local').isSubsetKey).toBe(false);
  });

  it('reads odd keys field by field, as istioctl does', () => {
    expect(parseClusterName('outbound|http|v1|reviews')).toMatchObject({ port: 0, serviceFqdn: 'reviews' });
    expect(parseClusterName('outbound|80|v1|a|b')).toMatchObject({ direction: 'outbound', port: 80, subset: 'v1', serviceFqdn: '' });
    expect(parseClusterName('outbound_.80_.v1|x|y|z')).toMatchObject({ direction: 'outbound', port: 80, subset: '', serviceFqdn: '' });
  });
});
