import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceBundle } from '../../../lib/core/evidence-bundle.ts';
import { XDS_TYPE_URLS } from '../../../lib/core/proxy-status.ts';
import { mintMeshRootCa, type SimCertificateAuthority } from '../../../sim/certificates.ts';
import { buildBundle, NOW, syncStatus, workloadEntry, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';

const VM: TestVm = { instanceId: 'i-0000000000000001', hostname: 'vm1', ip: '10.0.0.1' };
const ID = 'i-0000000000000001';
const pod = (name: string, version = '1.24.6', phase = 'Running', args = ['discovery', '--keepaliveMaxServerConnectionAge', '30m']) => ({
  metadata: { name, namespace: 'istio-system' },
  spec: { containers: [{ name: 'discovery', image: `docker.io/istio/pilot:${version}`, args }] },
  status: { phase },
});
const watched = (
  proxy: string,
  states: Partial<Record<'CDS' | 'LDS' | 'EDS' | 'RDS', { sent?: string; acked?: string; lastError?: string }>>,
  version = '1.24.6',
) => ({
  proxy,
  istio_version: version,
  resources: Object.fromEntries(Object.entries(states).map(([t, s]) => [XDS_TYPE_URLS[t as 'CDS'], s])),
});
const SYNCED = {
  CDS: { sent: 'a', acked: 'a' },
  LDS: { sent: 'a', acked: 'a' },
  EDS: { sent: 'a', acked: 'a' },
  RDS: { sent: 'a', acked: 'a' },
};

function bundleWith(options: {
  vms?: TestVm[];
  syncz?: Record<string, unknown[]>;
  pods?: unknown[];
  entries?: unknown[];
  groups?: unknown[];
  rootCa?: Record<string, string>;
}): EvidenceBundle {
  const bundle = buildBundle({ vms: options.vms ?? [VM], entries: options.entries ?? [], syncz: options.syncz ?? { 'istiod-a': [] } });
  bundle.cluster!.istiodPods = { items: options.pods ?? Object.keys(options.syncz ?? { 'istiod-a': [] }).map((n) => pod(n)) };
  bundle.cluster!.workloadGroups = { items: options.groups ?? [] };
  bundle.cluster!.rootCa = Object.fromEntries(
    Object.entries(options.rootCa ?? {}).map(([ns, pem]) => [ns, { data: { 'root-cert.pem': pem } }]),
  );
  return bundle;
}

describe('XDS-02', () => {
  it('passes when every watched type is SYNCED', () => {
    expect(findingsOf(bundleWith({ syncz: { 'istiod-a': [watched('vm1.payments', SYNCED)] } }), 'XDS-02')[ID]!.status).toBe('PASS');
  });
  it('fails on STALE and quotes the NACK of an ERROR type', () => {
    const found = findingsOf(
      bundleWith({
        syncz: {
          'istiod-a': [
            watched('vm1.payments', {
              ...SYNCED,
              EDS: { sent: 'b', acked: 'a' },
              LDS: { sent: 'c', acked: 'b', lastError: 'Error adding/updating listener(s) 0.0.0.0_8080: duplicate listener' },
            }),
          ],
        },
      }),
      'XDS-02',
    );
    expect(found[ID]).toEqual({
      status: 'FAIL',
      message:
        'LDS was rejected on istiod-a: Error adding/updating listener(s) 0.0.0.0_8080: duplicate listener; EDS is STALE on istiod-a (sent b, acked a)',
    });
  });
  it('reports NOT SENT as a LOW finding of its own', () => {
    const report = findingsOfAll(
      bundleWith({ syncz: { 'istiod-a': [watched('vm1.payments', { ...SYNCED, RDS: { sent: '', acked: '' } })] } }),
      'XDS-02',
    );
    expect(report.map((f) => [f.status, f.severity, f.message])).toEqual([
      ['PASS', 'HIGH', 'every watched xDS type is SYNCED or not yet sent'],
      ['FAIL', 'LOW', 'istiod never sent RDS on istiod-a'],
    ]);
  });
  it('skips a proxy that is not connected, and is ERROR when a replica did not answer', () => {
    expect(findingsOf(bundleWith({ syncz: { 'istiod-a': [] } }), 'XDS-02')[ID]!.status).toBe('SKIP');
    expect(findingsOf(bundleWith({ syncz: { 'istiod-a': [] }, pods: [pod('istiod-a'), pod('istiod-b')] }), 'XDS-02')[ID]!.status).toBe(
      'ERROR',
    );
  });
});

describe('XDS-03', () => {
  it('passes one minor behind, fails two behind or newer, on every replica holding the proxy', () => {
    const at = (proxyVersion: string, istiodVersion: string) =>
      findingsOf(
        bundleWith({ syncz: { 'istiod-a': [watched('vm1.payments', SYNCED, proxyVersion)] }, pods: [pod('istiod-a', istiodVersion)] }),
        'XDS-03',
      )[ID]!;
    expect(at('1.23.4', '1.24.6').status).toBe('PASS');
    expect(at('1.22.8', '1.24.6')).toEqual({ status: 'FAIL', message: 'the proxy (1.22.8) is 2 minor versions behind istiod-a (1.24.6)' });
    expect(at('1.24.7', '1.24.6').message).toBe('the proxy (1.24.7) is newer than istiod-a (1.24.6)');
    const moved = bundleWith({
      syncz: { 'istiod-a': [watched('vm1.payments', SYNCED)], 'istiod-b': [watched('vm1.payments', SYNCED)] },
      pods: [pod('istiod-a'), pod('istiod-b', '1.26.0')],
    });
    expect(findingsOf(moved, 'XDS-03')[ID]!.status).toBe('FAIL');
  });
  it('is ERROR when istiod has no version tag', () => {
    const noTag = bundleWith({
      syncz: { 'istiod-a': [watched('vm1.payments', SYNCED)] },
      pods: [{ metadata: { name: 'istiod-a', namespace: 'istio-system' }, status: { phase: 'Running' } }],
    });
    expect(findingsOf(noTag, 'XDS-03')[ID]!.status).toBe('ERROR');
  });
});

describe('XDS-05', () => {
  it("passes for the VM's proxy and fails for a proxy no VM accounts for in a VM namespace; ignores other namespaces", () => {
    const found = findingsOf(
      bundleWith({ syncz: { 'istiod-a': [syncStatus('vm1.payments'), syncStatus('intruder.payments'), syncStatus('web-7d9f.shop')] } }),
      'XDS-05',
    );
    expect(found).toEqual({
      'vm1.payments': { status: 'PASS', message: `belongs to ${ID}` },
      'intruder.payments': {
        status: 'FAIL',
        message: 'no audited VM accounts for this proxy: a machine outside the inventory holds a mesh identity in payments',
      },
    });
  });
  it('is ERROR for a proxy two VMs claim', () => {
    const twins = bundleWith({
      vms: [VM, { ...VM, instanceId: 'i-0000000000000002', ip: '10.0.0.2' }],
      syncz: { 'istiod-a': [syncStatus('vm1.payments')] },
    });
    expect(findingsOf(twins, 'XDS-05')['vm1.payments']!.status).toBe('ERROR');
  });
});

describe('REG-03', () => {
  const entry = (annotations: Record<string, string>) => ({
    ...(workloadEntry('payments', 'payments-vm', '10.0.0.1') as object),
    metadata: { name: 'payments-vm-10.0.0.1', namespace: 'payments', annotations },
  });
  const live = {
    'istio.io/autoRegistrationGroup': 'payments-vm',
    'istio.io/workloadController': 'istiod-a',
    'istio.io/connectedAt': new Date(Date.parse(NOW) - 10 * 60_000).toISOString(),
  };
  const reg03 = (annotations: Record<string, string>, pods?: unknown[]) =>
    findingsOf(bundleWith({ entries: [entry(annotations)], ...(pods ? { pods } : {}) }), 'REG-03')['payments/payments-vm-10.0.0.1']!;
  it('passes for a live entry', () => {
    expect(reg03(live).status).toBe('PASS');
  });
  it('fails for a leaked, disconnected or orphaned-controller entry', () => {
    expect(reg03({ ...live, 'istio.io/connectedAt': new Date(Date.parse(NOW) - 3 * 3600_000).toISOString() }).message).toBe(
      'connectedAt is 180 min old, beyond the liveness window of 45 min (1.5 × 30m, the --keepaliveMaxServerConnectionAge of istiod-a): leaked',
    );
    expect(reg03({ ...live, 'istio.io/disconnectedAt': NOW }).status).toBe('FAIL');
    expect(reg03({ ...live, 'istio.io/workloadController': 'istiod-gone' }).message).toBe(
      'its controller istiod-gone is not a running istiod pod',
    );
  });
  it('is ERROR for a time that is not RFC 3339', () => {
    expect(reg03({ ...live, 'istio.io/connectedAt': 'yesterday' })).toEqual({
      status: 'ERROR',
      message: 'istio.io/connectedAt is not an RFC 3339 time: "yesterday"',
    });
  });

  describe("takes its window from the controlling istiod's --keepaliveMaxServerConnectionAge", () => {
    const connectedAgo = (minutes: number) => ({
      ...live,
      'istio.io/connectedAt': new Date(Date.parse(NOW) - minutes * 60_000).toISOString(),
    });
    const runWith = (...args: string[]) => [pod('istiod-a', '1.24.6', 'Running', ['discovery', ...args])];
    const full = (annotations: Record<string, string>, pods?: unknown[]) =>
      analyzeBundle(bundleWith({ entries: [entry(annotations)], ...(pods ? { pods } : {}) })).findings.find(
        (f) => f.control === 'REG-03' && f.subject.id === 'payments/payments-vm-10.0.0.1',
      )!;

    it('as 1.5 × its value, in either form pflag reads, and says so in the finding', () => {
      const hour = runWith('--keepaliveMaxServerConnectionAge=1h');
      expect(reg03(connectedAgo(80), hour).status).toBe('PASS');
      const leaked = full(connectedAgo(100), hour);
      expect(leaked.status).toBe('FAIL');
      expect(leaked.message).toBe(
        'connectedAt is 100 min old, beyond the liveness window of 90 min (1.5 × 1h, the --keepaliveMaxServerConnectionAge of istiod-a): leaked',
      );
      expect(leaked.evidence).toMatchObject({
        maxConnectionAge: '1h',
        livenessWindowMinutes: 90,
        livenessWindow: '1.5 × 1h, the --keepaliveMaxServerConnectionAge of istiod-a',
      });
      expect(reg03(connectedAgo(100), runWith('--keepaliveMaxServerConnectionAge', '1h30m')).status).toBe('PASS');
      expect(reg03(connectedAgo(20), runWith('--keepaliveMaxServerConnectionAge', '10m')).message).toContain(
        'beyond the liveness window of 15 min (1.5 × 10m',
      );
    });

    it('as no limit when istiod runs without the flag or with 0, as istiod itself does', () => {
      const unset = full(connectedAgo(600), runWith());
      // A PASS keeps only an excerpt of its evidence in the report: its message says which window applied.
      expect(unset.status).toBe('PASS');
      expect(unset.message).toContain(
        'no liveness window applies (none: istiod-a runs without --keepaliveMaxServerConnectionAge, so istiod sets no age limit)',
      );
      expect(reg03(connectedAgo(600), runWith('--keepaliveMaxServerConnectionAge=0s')).status).toBe('PASS');
    });

    it("as the chart's 45 min when the controller's pod spec is not in the evidence or its value is not a duration", () => {
      const noSpec = [{ metadata: { name: 'istiod-a', namespace: 'istio-system' }, status: { phase: 'Running' } }];
      const old = full(connectedAgo(50), noSpec);
      expect(old.status).toBe('FAIL');
      expect(old.message).toContain(
        "beyond the liveness window of 45 min (45 min, the default (1.5 × the Helm chart's 30m): the pod spec of istiod-a is not in the evidence)",
      );
      expect(reg03(connectedAgo(40), noSpec).status).toBe('PASS');
      expect(full(connectedAgo(50), runWith('--keepaliveMaxServerConnectionAge', 'half an hour')).message).toContain('is not a duration');
    });
  });
});

describe('REG-04', () => {
  it('fails both entries that share an address and network, passes the others', () => {
    const found = findingsOf(
      bundleWith({
        entries: [
          workloadEntry('payments', 'payments-vm', '10.0.0.1'),
          workloadEntry('payments', 'payments-vm', '10.0.0.1', { name: 'manual', auto: false }),
          workloadEntry('payments', 'payments-vm', '10.0.0.1', { network: 'net2' }),
        ],
      }),
      'REG-04',
    );
    expect(Object.entries(found).map(([id, f]) => [id, f.status])).toEqual([
      ['payments/manual', 'FAIL'],
      ['payments/payments-vm-10.0.0.1', 'FAIL'],
      ['payments/payments-vm-10.0.0.1-net2', 'PASS'],
    ]);
  });
});

describe('REG-05', () => {
  const group = (name: string, ns = 'payments') => ({
    apiVersion: 'networking.istio.io/v1',
    metadata: { name, namespace: ns },
    spec: { template: { serviceAccount: name } },
  });
  const withSa = { ...VM, env: ["SERVICE_ACCOUNT='payments-vm'"] };
  it("passes when the group exists and the entry runs as the VM's service account", () => {
    expect(
      findingsOf(
        bundleWith({ vms: [withSa], groups: [group('payments-vm')], entries: [workloadEntry('payments', 'payments-vm', '10.0.0.1')] }),
        'REG-05',
      )[ID]!.status,
    ).toBe('PASS');
  });
  it('fails when the group is missing or the service account differs', () => {
    expect(findingsOf(bundleWith({ vms: [withSa], groups: [group('other')] }), 'REG-05')[ID]!.message).toBe(
      'WorkloadGroup payments/payments-vm does not exist: istiod refuses to register the VM',
    );
    const other = {
      ...(workloadEntry('payments', 'payments-vm', '10.0.0.1') as { spec: object }),
      spec: { address: '10.0.0.1', serviceAccount: 'default' },
    };
    expect(findingsOf(bundleWith({ vms: [withSa], groups: [group('payments-vm')], entries: [other] }), 'REG-05')[ID]!.status).toBe('FAIL');
  });
});

describe('REG-06', () => {
  const probed = (status: string, message?: string) => ({
    ...(workloadEntry('payments', 'payments-vm', '10.0.0.1') as { metadata: { annotations: Record<string, string> } }),
    metadata: {
      name: 'payments-vm-10.0.0.1',
      namespace: 'payments',
      annotations: { 'istio.io/autoRegistrationGroup': 'payments-vm', 'proxy.istio.io/health-checks-enabled': 'true' },
    },
    status: { conditions: [{ type: 'Healthy', status, ...(message ? { message } : {}) }] },
  });
  it('passes when Healthy and ready, fails on a False condition quoting it, or when the VM is not ready', () => {
    expect(findingsOf(bundleWith({ entries: [probed('True')] }), 'REG-06')[ID]!.status).toBe('PASS');
    expect(
      findingsOf(bundleWith({ entries: [probed('False', 'Get "http://10.0.0.1:8080/ready": connection refused')] }), 'REG-06')[ID]!.message,
    ).toBe('payments/payments-vm-10.0.0.1 is not Healthy: Get "http://10.0.0.1:8080/ready": connection refused');
    expect(findingsOf(bundleWith({ vms: [{ ...VM, httpCode: '503' }], entries: [probed('True')] }), 'REG-06')[ID]!.status).toBe('FAIL');
  });
  it('skips entries without health checks', () => {
    expect(findingsOf(bundleWith({ entries: [workloadEntry('payments', 'payments-vm', '10.0.0.1')] }), 'REG-06')[ID]!.status).toBe('SKIP');
  });
});

describe('CERT-02', () => {
  let mesh: SimCertificateAuthority;
  let old: SimCertificateAuthority;
  beforeAll(async () => {
    mesh = await mintMeshRootCa({ serialNumber: '01', notBefore: new Date(Date.parse(NOW) - 86_400_000) });
    old = await mintMeshRootCa({ serialNumber: '02', notBefore: new Date(Date.parse(NOW) - 86_400_000), keySlot: 1 });
  });
  const rootca = (pem: string) => ({
    name: 'envoy-secrets-active',
    content: JSON.stringify({
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
          name: 'ROOTCA',
          secret: { name: 'ROOTCA', validation_context: { trusted_ca: { inline_bytes: Buffer.from(pem).toString('base64') } } },
        },
      ],
    }),
  });
  const vm = (envoyRoot: string, diskRoot: string | null): TestVm => ({
    ...VM,
    sections: [
      rootca(envoyRoot),
      { name: 'envoy-secrets-warming', content: '{}' },
      diskRoot === null ? { name: 'root-cert-pem', content: '', rc: 1 } : { name: 'root-cert-pem', content: diskRoot },
    ],
  });
  const cert02 = (v: TestVm) => findingsOf(bundleWith({ vms: [v], rootCa: { payments: mesh.pem } }), 'CERT-02')[ID]!;
  it('passes when both anchors are the mesh root', () => {
    expect(cert02(vm(mesh.pem, mesh.pem))).toMatchObject({ status: 'PASS' });
  });
  it('fails when either anchor is another root', () => {
    expect(cert02(vm(old.pem, mesh.pem))).toEqual({
      status: 'FAIL',
      message: "Envoy's ROOTCA is not the mesh root: mTLS with the mesh fails after the rotation",
    });
    expect(cert02(vm(mesh.pem, old.pem)).message).toBe(
      '/etc/certs/root-cert.pem is not the mesh root: mTLS with the mesh fails after the rotation',
    );
  });
  it('is ERROR when one anchor cannot be read, or the mesh root is not in the bundle', () => {
    expect(cert02(vm(mesh.pem, null)).status).toBe('ERROR');
    expect(findingsOf(bundleWith({ vms: [vm(mesh.pem, mesh.pem)] }), 'CERT-02')[ID]!.message).toBe(
      "the bundle holds no root-of-trust ConfigMap for payments (istio-ca-root-cert, or the name istiod's PILOT_CA_CERT_CONFIGMAP gives)",
    );
  });
});

describe('FLEET-01', () => {
  it('passes when every replica answered, fails naming a silent one, is ERROR without the pods list', () => {
    expect(findingsOf(bundleWith({ syncz: { 'istiod-a': [], 'istiod-b': [] } }), 'FLEET-01').fleet!.status).toBe('PASS');
    expect(findingsOf(bundleWith({ syncz: { 'istiod-a': [] }, pods: [pod('istiod-a'), pod('istiod-b')] }), 'FLEET-01').fleet).toEqual({
      status: 'FAIL',
      message: 'istiod-b did not answer',
    });
    const noPods = bundleWith({ syncz: { 'istiod-a': [] } });
    delete noPods.cluster!.istiodPods;
    expect(findingsOf(noPods, 'FLEET-01').fleet!.status).toBe('ERROR');
  });
});

describe('COLLECT-02', () => {
  it('passes Online, fails ConnectionLost and a VM absent from the inventory', () => {
    const bundle = buildBundle({
      vms: [
        VM,
        { instanceId: 'i-0000000000000002', pingStatus: 'ConnectionLost', ip: '10.0.0.2' },
        { instanceId: 'i-0000000000000003', ip: '10.0.0.3' },
      ],
    });
    bundle.inventory.InstanceInformationList = bundle.inventory.InstanceInformationList.filter(
      (i) => i.InstanceId !== 'i-0000000000000003',
    );
    expect(findingsOf(bundle, 'COLLECT-02')).toEqual({
      [ID]: { status: 'PASS', message: 'the SSM agent is Online' },
      'i-0000000000000002': { status: 'FAIL', message: 'the SSM agent is ConnectionLost' },
      'i-0000000000000003': {
        status: 'FAIL',
        message: 'the VM was targeted but is not in the SSM inventory (not a managed node, or deregistered)',
      },
    });
  });
});

function findingsOfAll(bundle: EvidenceBundle, control: string) {
  return analyzeAll(bundle).filter((f) => f.control === control);
}
import { analyzeBundle } from '../../../lib/core/analyze.ts';
const analyzeAll = (bundle: EvidenceBundle) => analyzeBundle(bundle).findings;
