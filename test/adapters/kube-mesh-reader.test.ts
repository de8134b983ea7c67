import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeConfig } from '../../lib/adapters/kube-config.ts';
import { KubeMeshReader, type KubeMeshReaderOptions } from '../../lib/adapters/kube-mesh-reader.ts';
import type { ClusterEvidence } from '../../lib/core/evidence-bundle.ts';
import { buildMeshView } from '../../lib/core/mesh-view.ts';
import { startKubeApiServer, type KubeApiFaults, type KubeApiServer } from '../../sim/kube-api-server.ts';

const NAMESPACES = ['billing', 'ledger', 'payments'];
const ENTRIES = 1200;
const PODS = ['istiod-7c9d8b6f4-abcde', 'istiod-7c9d8b6f4-fghij', 'istiod-canary-5d4c3b2a1-klmno'];

function entry(i: number): Record<string, unknown> {
  const ns = NAMESPACES[i % NAMESPACES.length]!;
  const ip = `10.${20 + (i % 3)}.${Math.floor(i / 250)}.${(i % 250) + 4}`;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: {
      name: `${ns}-vm-${ip}`,
      namespace: ns,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(5000 + i),
      creationTimestamp: '2026-11-26T05:40:00Z',
      annotations: {
        'istio.io/autoRegistrationGroup': `${ns}-vm`,
        'istio.io/connectedAt': '2026-11-26T05:40:00.123456789Z',
        'istio.io/workloadController': PODS[i % 2]!,
      },
    },
    spec: { address: ip, serviceAccount: `${ns}-vm` },
  };
}

const sync = (proxy: string, version = '1.24.6'): Record<string, unknown> => ({
  cluster_id: 'Kubernetes',
  proxy,
  proxy_type: 'sidecar',
  istio_version: version,
  cluster_sent: 'n1',
  cluster_acked: 'n1',
  resources: {
    'type.googleapis.com/envoy.config.cluster.v3.Cluster': { sent: 'n1', acked: 'n1', sentTime: '2026-11-26T05:59:00.123456789Z' },
  },
});

const CLUSTER: ClusterEvidence = {
  workloadEntries: {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntryList',
    items: Array.from({ length: ENTRIES }, (_, i) => entry(i)),
  },
  workloadGroups: {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadGroupList',
    items: NAMESPACES.map((ns) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadGroup',
      metadata: { name: `${ns}-vm`, namespace: ns },
      spec: { template: { serviceAccount: `${ns}-vm` } },
    })),
  },
  istiodPods: {
    apiVersion: 'v1',
    kind: 'PodList',
    items: PODS.map((name) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: 'istio-system',
        labels: { app: 'istiod', 'istio.io/rev': name.includes('canary') ? 'canary' : 'default' },
      },
      status: { phase: 'Running', podIP: '10.100.0.12' },
    })),
  },
  syncz: {
    [PODS[0]!]: [sync('vm-a.payments'), sync('vm-b.billing')],
    [PODS[1]!]: Array.from({ length: 300 }, (_, i) => sync(`vm-${String(i).padStart(3, '0')}.ledger`)),
    [PODS[2]!]: [sync('vm-c.payments', '1.25.0')],
  },
  rootCa: Object.fromEntries(
    NAMESPACES.filter((ns) => ns !== 'ledger').map((ns) => [
      ns,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'istio-ca-root-cert', namespace: ns },
        data: { 'root-cert.pem': `-----BEGIN CERTIFICATE-----\n${ns}\n` },
      },
    ]),
  ),
};

// As the API server returns them (test/fixtures/kube/services/), moved into the VM namespaces where they name one.
const SERVICE_FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/kube/services/service-list.json', import.meta.url), 'utf8')) as {
  items: Array<{ metadata: { name: string; namespace: string } }>;
};
const ENTRY_FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/kube/services/serviceentry-list.json', import.meta.url), 'utf8')) as {
  items: Array<{ metadata: { name: string; namespace: string } }>;
};
const inNamespace = <T extends { metadata: { namespace: string } }>(o: T, namespace: string): T => ({
  ...o,
  metadata: { ...o.metadata, namespace },
});
CLUSTER.services = {
  apiVersion: 'v1',
  kind: 'ServiceList',
  items: [
    ...SERVICE_FIXTURE.items.map((o) => (o.metadata.namespace === 'bar' ? inNamespace(o, 'payments') : o)),
    // Neither istiod's nor the gateway's, in istio-system: not read.
    { metadata: { name: 'kiali', namespace: 'istio-system', labels: { app: 'kiali' } }, spec: { selector: { app: 'kiali' } } },
    { metadata: { name: 'other', namespace: 'elsewhere' }, spec: { selector: { app: 'other' } } },
  ],
};
CLUSTER.serviceEntries = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntryList',
  items: [
    ...ENTRY_FIXTURE.items.map((o) => inNamespace(o, 'billing')),
    { ...ENTRY_FIXTURE.items[0]!, metadata: { name: 'x', namespace: 'elsewhere' } },
  ],
};

const byKey = (items: unknown[]): unknown[] =>
  [...items].sort((a, b) => {
    const key = (o: unknown): string =>
      `${(o as { metadata: { namespace: string } }).metadata.namespace}/${(o as { metadata: { name: string } }).metadata.name}`;
    return key(a) < key(b) ? -1 : 1;
  });

describe('KubeMeshReader against the simulated API server, through a kubeconfig file', () => {
  let dir: string;
  const servers: KubeApiServer[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-kube-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function readerFor(
    faults: KubeApiFaults,
    options: Partial<KubeMeshReaderOptions> = {},
    cluster = CLUSTER,
    token?: string,
  ): Promise<{ server: KubeApiServer; reader: KubeMeshReader }> {
    const server = await startKubeApiServer({ cluster, faults });
    servers.push(server);
    const path = join(dir, `kubeconfig-${servers.length}`);
    writeFileSync(path, server.kubeconfigYaml(token ? { token } : {}));
    const { kubeConfig } = await buildKubeConfig({ kind: 'file', path });
    return { server, reader: new KubeMeshReader({ kubeConfig, ...options }) };
  }

  it('pages 1,200 WorkloadEntries in three calls of 500 and keeps the API answers unchanged', async () => {
    const { server, reader } = await readerFor({});
    const { evidence, problems, calls } = await reader.readClusterWithProblems(['payments', 'billing', 'ledger']);
    expect(problems).toEqual([
      {
        part: 'root-ca',
        target: 'ledger',
        call: 'GET /api/v1/namespaces/ledger/configmaps/istio-ca-root-cert',
        kind: 'not-found',
        status: 404,
        message: 'GET /api/v1/namespaces/ledger/configmaps/istio-ca-root-cert answered 404: configmaps "istio-ca-root-cert" not found',
      },
    ]);
    const weLists = server.requests.filter((r) => r.verb === 'list' && r.resource === 'workloadentries');
    expect(weLists.map((r) => [r.query.limit, r.query.continue === undefined])).toEqual([
      ['500', true],
      ['500', false],
      ['500', false],
    ]);
    expect(evidence.workloadEntries!.items).toHaveLength(ENTRIES);
    expect(evidence.workloadEntries!.items).toEqual(byKey(CLUSTER.workloadEntries!.items));
    expect(evidence.workloadEntries).toMatchObject({
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntryList',
      metadata: { resourceVersion: expect.any(String) },
    });
    expect(evidence.workloadEntries!.metadata).not.toHaveProperty('continue');
    expect(evidence.workloadGroups!.items).toEqual(byKey(CLUSTER.workloadGroups!.items));
    // A core List carries kind and apiVersion once, not on each item.
    expect(evidence.istiodPods!.items).toEqual(
      CLUSTER.istiodPods!.items.map((p) => ({ ...(p as Record<string, unknown>), apiVersion: undefined, kind: undefined })).map(
        ({ apiVersion: _a, kind: _k, ...rest }) => rest,
      ),
    );
    expect(evidence.syncz).toEqual(CLUSTER.syncz);
    expect(evidence.rootCa).toEqual({ billing: CLUSTER.rootCa.billing, payments: CLUSTER.rootCa.payments });
    // Services and ServiceEntries: those of the VM namespaces, istiod's and the east-west gateway's, no other.
    const withoutTypeMeta = ({ apiVersion: _a, kind: _k, ...rest }: Record<string, unknown>): Record<string, unknown> => rest;
    expect(evidence.services).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceList',
      metadata: {},
      items: byKey(CLUSTER.services!.items.slice(0, SERVICE_FIXTURE.items.length)).map((o) =>
        withoutTypeMeta(o as Record<string, unknown>),
      ),
    });
    expect(evidence.serviceEntries).toEqual({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntryList',
      metadata: {},
      items: [CLUSTER.serviceEntries!.items[0]],
    });
    // One audit: ⌈E/500⌉ + ⌈G/500⌉ + ⌈P/500⌉ list pages, one port-forward per istiod pod, one GET per namespace,
    // one Service list per namespace plus istiod's and the gateway's, one ServiceEntry list per namespace.
    expect(calls).toHaveLength(3 + 1 + 1 + PODS.length + 3 + (3 + 2) + 3);
    expect(calls.filter((c) => c.includes('/services') || c.includes('/serviceentries'))).toEqual([
      'GET /api/v1/namespaces/billing/services?limit=500',
      'GET /api/v1/namespaces/ledger/services?limit=500',
      'GET /api/v1/namespaces/payments/services?limit=500',
      'GET /api/v1/namespaces/istio-system/services?labelSelector=app%3Distiod&limit=500',
      'GET /api/v1/namespaces/istio-system/services?labelSelector=istio%3Deastwestgateway&limit=500',
      'GET /apis/networking.istio.io/v1/namespaces/billing/serviceentries?limit=500',
      'GET /apis/networking.istio.io/v1/namespaces/ledger/serviceentries?limit=500',
      'GET /apis/networking.istio.io/v1/namespaces/payments/serviceentries?limit=500',
    ]);
    expect(server.requests).toHaveLength(calls.length);
    expect(server.requests.filter((r) => r.resource === 'pods/proxy')).toEqual([]);
  });

  it('leaves a down replica out of syncz and says why, keeping the replicas that answered', async () => {
    const { reader } = await readerFor({ replicaDown: [PODS[1]!] });
    const { evidence, problems } = await reader.readClusterWithProblems(['payments']);
    expect(Object.keys(evidence.syncz).sort()).toEqual([PODS[0], PODS[2]]);
    expect(evidence.syncz[PODS[0]!]).toEqual(CLUSTER.syncz[PODS[0]!]);
    expect(problems).toEqual([
      expect.objectContaining({
        part: 'syncz',
        target: PODS[1],
        kind: 'port-forward-refused',
        message: expect.stringMatching(/connection refused/),
      }),
    ]);
    const view = buildMeshView(evidence);
    expect(view.istiods.filter((i) => !i.answered).map((i) => i.name)).toEqual([PODS[1]]);
  });

  it('records a 403 as a problem and leaves the part out, without throwing', async () => {
    const { evidence, problems } = await (
      await readerFor({ forbidden: [{ resource: 'workloadgroups' }, { resource: 'pods/portforward' }] })
    ).reader.readClusterWithProblems(['payments']);
    expect(evidence.workloadGroups).toBeUndefined();
    expect(evidence.workloadEntries?.items).toHaveLength(ENTRIES);
    expect(evidence.syncz).toEqual({});
    expect(problems.map((p) => [p.part, p.kind, p.status])).toEqual([
      ['workloadgroups', 'forbidden', 403],
      ...PODS.map(() => ['syncz', 'forbidden', 403]),
    ]);
    expect(problems[0]!.message).toContain('cannot list resource "workloadgroups" in API group "networking.istio.io" at the cluster scope');
    expect(buildMeshView(evidence).missingParts).toEqual(['cluster/workloadgroups.json']);
  });

  it('sees a proxy that moved between replicas on both', async () => {
    const { reader } = await readerFor({ movedProxies: [{ proxy: 'vm-a.payments', alsoOn: PODS[2]! }] });
    const view = buildMeshView(await reader.readCluster(['payments']));
    expect(view.proxies.get('vm-a.payments')?.map((p) => p.replica)).toEqual([PODS[0], PODS[2]]);
  });

  it('gives up on a replica that answers too slowly, a cut-off answer and one that is not JSON, and reads the rest', async () => {
    const { reader } = await readerFor(
      { slow: [{ target: `syncz/${PODS[0]}`, delayMs: 20_000 }], truncatedSyncz: [PODS[1]!], garbledSyncz: [PODS[2]!] },
      { synczTimeoutMs: 300 },
    );
    const { evidence, problems } = await reader.readClusterWithProblems([]);
    expect(evidence.syncz).toEqual({});
    expect(Object.fromEntries(problems.map((p) => [p.target, p.kind]))).toEqual({
      [PODS[0]!]: 'timeout',
      [PODS[1]!]: 'invalid-response',
      [PODS[2]!]: 'invalid-response',
    });
    expect(problems.find((p) => p.target === PODS[1])!.message).toMatch(/cut off/);
    expect(problems.find((p) => p.target === PODS[2])!.message).toMatch(/not JSON/);
  });

  it('times a slow list out as a problem', async () => {
    const { evidence, problems } = await // 2 s: every other list answers well within it even on a loaded machine; the slow one never does.
    (
      await readerFor({ slow: [{ target: 'workloadentries', delayMs: 20_000 }] }, { requestTimeoutMs: 2_000 })
    ).reader.readClusterWithProblems([]);
    expect(evidence.workloadEntries).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ part: 'workloadentries', kind: 'timeout' })]);
  });

  it('reports a rejected token on every part instead of failing', async () => {
    const { evidence, problems } = await (await readerFor({}, {}, CLUSTER, 'not-the-token')).reader.readClusterWithProblems(['payments']);
    expect(evidence).toEqual({ syncz: {}, rootCa: {} });
    expect(problems.map((p) => [p.part, p.kind])).toEqual([
      ['workloadentries', 'unauthorized'],
      ['workloadgroups', 'unauthorized'],
      ['istiod-pods', 'unauthorized'],
      ['root-ca', 'unauthorized'],
      ['services', 'unauthorized'],
      ['services', 'unauthorized'],
      ['services', 'unauthorized'],
      ['serviceentries', 'unauthorized'],
    ]);
    expect(problems.filter((p) => p.part === 'services').map((p) => p.target)).toEqual(['payments', 'istio-system', 'istio-system']);
  });

  it('records a 403 on the Services of one namespace as a problem about it, and keeps the Services it could read', async () => {
    const { reader } = await readerFor({ forbidden: [{ resource: 'services', namespace: 'payments' }, { resource: 'serviceentries' }] });
    const { evidence, problems } = await reader.readClusterWithProblems(['payments']);
    expect(
      problems.filter((p) => p.part === 'services' || p.part === 'serviceentries').map((p) => [p.part, p.target, p.kind, p.status]),
    ).toEqual([
      ['services', 'payments', 'forbidden', 403],
      ['serviceentries', 'payments', 'forbidden', 403],
    ]);
    expect(evidence.services!.items.map((o) => (o as { metadata: { name: string } }).metadata.name)).toEqual([
      'istio-eastwestgateway',
      'istiod',
      'istiod-rev-1',
    ]);
    expect(evidence).not.toHaveProperty('serviceEntries');
  });

  it('lists the Services of the istio namespace once when it is a VM namespace too, keeping istiod and the gateway', async () => {
    const { reader } = await readerFor({});
    const { evidence, calls } = await reader.readClusterWithProblems(['istio-system']);
    expect(calls.filter((c) => c.includes('/services'))).toEqual(['GET /api/v1/namespaces/istio-system/services?limit=500']);
    expect(evidence.services!.items.map((o) => (o as { metadata: { name: string } }).metadata.name)).toEqual(
      expect.arrayContaining(['istio-eastwestgateway', 'istiod', 'istiod-rev-1']),
    );
  });

  it('keeps only the namespaces asked for when told to', async () => {
    const { reader } = await readerFor({}, { onlyRequestedNamespaces: true, pageSize: 1000 });
    const evidence = await reader.readCluster(['ledger']);
    expect(evidence.workloadEntries!.items).toHaveLength(ENTRIES / 3);
    expect(evidence.workloadGroups!.items).toEqual([CLUSTER.workloadGroups!.items[1]]);
  });

  it('passes malformed objects through to the mesh view, which lists them as invalid and never throws', async () => {
    const corpus = JSON.parse(readFileSync(new URL('../fixtures/kube/malformed/cluster.json', import.meta.url), 'utf8')) as ClusterEvidence;
    const { reader } = await readerFor({}, {}, corpus);
    const { evidence, problems } = await reader.readClusterWithProblems(['payments']);
    expect(problems.map((p) => [p.part, p.kind])).toEqual([['root-ca', 'not-found']]);
    const view = buildMeshView(evidence);
    expect(view.workloadEntries.map((we) => we.metadata.name).sort()).toEqual(['payments-vm-10.20.1.5', 'payments-vm-10.20.1.7']);
    expect(view.invalid.map((o) => [o.kind, o.ref, o.reason.split(':')[0]])).toEqual([
      ['WorkloadEntry', 'items[0]', 'metadata.name'],
      ['WorkloadEntry', 'payments/future-version', 'apiVersion'],
      ['WorkloadEntry', 'payments/no-address', 'spec.address'],
      ['WorkloadEntry', 'payments/numeric-annotation', 'metadata.annotations.istio.io/connectedAt'],
      ['WorkloadEntry', 'payments/spec-is-a-string', 'spec'],
      ['WorkloadGroup', 'payments/no-spec', 'spec'],
      ['Pod', 'items[0]', 'metadata.name'],
      ['SyncStatus', 'istiod-1[1]', 'proxy'],
      ['SyncStatus', 'istiod-1[2]', 'resources'],
      ['SyncStatus', 'istiod-1[3]', '(root)'],
    ]);
    // A non-RFC 3339 connectedAt is a well-formed string: the entry stays, for REG-03 to judge.
    expect(
      view.workloadEntries.find((we) => we.metadata.name === 'payments-vm-10.20.1.7')?.metadata.annotations?.['istio.io/connectedAt'],
    ).toBe('yesterday around noon');
  });
});
