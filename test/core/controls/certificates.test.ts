import { beforeAll, describe, expect, it } from 'vitest';
import { mintMeshRootCa, mintWorkloadCertificate, type SimCertificateAuthority } from '../../../sim/certificates.ts';
import { buildBundle, NOW, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';

const now = Date.parse(NOW);
const HOUR = 3_600_000;
let root: SimCertificateAuthority;
let fresh: { chainPem: string; certificatePem: string };
let old: { chainPem: string };

beforeAll(async () => {
  root = await mintMeshRootCa({ serialNumber: '0193a543fe2b0d9cd4847675394dfc54', notBefore: new Date(now - 90 * 24 * HOUR) });
  fresh = await mintWorkloadCertificate(root, {
    namespace: 'payments',
    serviceAccount: 'payments-vm',
    notBefore: new Date(now - 2 * HOUR),
    serialNumber: '0a01',
  });
  old = await mintWorkloadCertificate(root, {
    namespace: 'payments',
    serviceAccount: 'payments-vm',
    notBefore: new Date(now - 20 * HOUR),
    serialNumber: '0a02',
  });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
function secrets(defaultChain: string | undefined, status: 'active' | 'warming' = 'active') {
  const entry = defaultChain && {
    '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
    name: 'default',
    secret: {
      name: 'default',
      tls_certificate: { certificate_chain: { inline_bytes: b64(defaultChain) }, private_key: { inline_bytes: 'W3JlZGFjdGVkXQ==' } },
    },
  };
  const rootEntry = {
    '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
    name: 'ROOTCA',
    secret: { name: 'ROOTCA', validation_context: { trusted_ca: { inline_bytes: b64(root.pem) } } },
  };
  const active = { configs: [...(status === 'active' && entry ? [entry] : []), rootEntry] };
  const warming = status === 'warming' && entry ? { configs: [entry] } : {};
  return [
    { name: 'envoy-secrets-active', content: JSON.stringify(active) },
    { name: 'envoy-secrets-warming', content: JSON.stringify(warming) },
  ];
}
const listing = (keyMode = '0600', owner = 'istio-proxy', files = ['cert-chain.pem', 'key.pem', 'root-cert.pem'], keyMatch = 'yes') => ({
  name: 'certs',
  content: [
    ...files.map(
      (f) => `file mode=${f === 'key.pem' ? keyMode : '0644'} uid=998 gid=998 owner=${owner} size=100 mtime=1764000000 name=${f}`,
    ),
    `key_match=${keyMatch}`,
  ].join('\n'),
});
const onDisk = (chain: string) => [listing(), { name: 'cert-chain-pem', content: chain }, { name: 'root-cert-pem', content: root.pem }];
const one = (sections: TestVm['sections'], control: string, extra: Partial<TestVm> = {}) =>
  findingsOf(buildBundle({ vms: [{ instanceId: 'i-0000000000000001', sections, ...extra }] }), control)['i-0000000000000001']!;

describe('CERT-01', () => {
  it('passes for an ACTIVE default certificate early in its life', () => {
    expect(one(secrets(fresh.chainPem), 'CERT-01')).toMatchObject({
      status: 'PASS',
      message: 'the default certificate is ACTIVE with 92 % of its lifetime left',
    });
  });
  it('fails when less than 25 % of its lifetime remains (rotation failing)', () => {
    expect(one(secrets(old.chainPem), 'CERT-01')).toEqual({
      status: 'FAIL',
      message: "only 17 % of the default certificate's lifetime remains: rotation (due at 50 %) is failing",
    });
  });
  it('fails when the default certificate is stuck warming or absent', () => {
    expect(one(secrets(fresh.chainPem, 'warming'), 'CERT-01')).toEqual({
      status: 'FAIL',
      message: 'the default certificate is stuck WARMING: Envoy never received it',
    });
    expect(one(secrets(undefined), 'CERT-01').message).toBe('Envoy holds no default certificate');
  });
  it('is ERROR when the secrets answer was cut', () => {
    expect(one([{ name: 'envoy-secrets-active', content: '{"configs":[{"@ty', cut: true }], 'CERT-01').status).toBe('ERROR');
  });
});

describe('CERT-03', () => {
  it('passes for a root valid for years, fails within 30 days of expiry', async () => {
    expect(one([{ name: 'root-cert-pem', content: root.pem }], 'CERT-03').status).toBe('PASS');
    const ending = await mintMeshRootCa({ serialNumber: '05', notBefore: new Date(now - 3640 * 24 * HOUR) });
    expect(one([{ name: 'root-cert-pem', content: ending.pem }], 'CERT-03').message).toMatch(/^the root certificate expires in \d+ days$/);
    expect(one([{ name: 'root-cert-pem', content: ending.pem }], 'CERT-03').status).toBe('FAIL');
  });
});

describe('CERT-04', () => {
  it('passes with the three files, a valid leaf and a private key', () => {
    expect(one([...onDisk(fresh.chainPem), ...secrets(fresh.chainPem)], 'CERT-04').status).toBe('PASS');
  });
  it('fails for a world-readable key, a foreign owner, a missing file and a mismatched key', () => {
    const found = one(
      [listing('0644', 'ubuntu', ['cert-chain.pem', 'key.pem'], 'no'), { name: 'cert-chain-pem', content: fresh.chainPem }],
      'CERT-04',
    );
    expect(found).toEqual({
      status: 'FAIL',
      message:
        'missing root-cert.pem; key.pem is mode 0644: readable beyond its owner; key.pem is owned by ubuntu; key.pem is not the key of the leaf certificate',
    });
  });
  it('fails when the on-disk leaf is older than the one Envoy serves', () => {
    expect(one([...onDisk(old.chainPem), ...secrets(fresh.chainPem)], 'CERT-04').message).toBe(
      'the on-disk leaf (serial a02) is older than the one Envoy serves (a01)',
    );
  });
  it('fails when /etc/certs does not exist', () => {
    expect(one([{ name: 'certs', content: 'dir=missing' }], 'CERT-04')).toEqual({ status: 'FAIL', message: '/etc/certs does not exist' });
  });
});

describe('CERT-05', () => {
  it('passes within 60 s and fails beyond', () => {
    expect(one([{ name: 'identity', content: `hostname=vm1\nclock=${now / 1000 - 30}` }], 'CERT-05').status).toBe('PASS');
    expect(one([{ name: 'identity', content: `hostname=vm1\nclock=${now / 1000 - 600}` }], 'CERT-05')).toEqual({
      status: 'FAIL',
      message: 'the VM clock is 600 s behind',
    });
  });
});

describe('CERT-06', () => {
  const token = (exp: number) => ({
    name: 'token',
    content: `present=yes\npayload=${Buffer.from(JSON.stringify({ exp, aud: ['istio-ca'] })).toString('base64url')}`,
  });
  it('skips while the on-disk certificate is valid', () => {
    expect(one([...onDisk(fresh.chainPem)], 'CERT-06').status).toBe('SKIP');
  });
  const noChain = { name: 'cert-chain-pem', content: '', rc: 1 };
  it('passes with a valid token when there is no on-disk certificate, fails with an expired or absent one', () => {
    expect(one([noChain, token(now / 1000 + 3600)], 'CERT-06').status).toBe('PASS');
    expect(one([noChain, token(now / 1000 - 3600)], 'CERT-06').message).toMatch(
      /^there is no on-disk certificate and the istio-token expired at /,
    );
    expect(one([noChain, { name: 'token', content: 'present=no' }], 'CERT-06').status).toBe('FAIL');
  });
  it('is ERROR when the on-disk certificate could not be read, rather than assuming there is none', () => {
    expect(
      one(
        [
          { name: 'cert-chain-pem', content: '-----BEGIN CERT', cut: true },
          { name: 'token', content: 'present=no' },
        ],
        'CERT-06',
      ),
    ).toEqual({ status: 'ERROR', message: 'section cert-chain-pem was cut' });
  });
});
