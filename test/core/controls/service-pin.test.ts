import { describe, expect, it } from 'vitest';
import type { EvidenceBundle, KubeList } from '../../../lib/core/evidence-bundle.ts';
import { buildBundle, workloadEntry, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';
import { fixture } from '../../support/fixtures.ts';

const ID = 'i-0000000000000001';
// The Services as the API returns them: istiod, istiod-rev-1, the east-west gateway at 10.10.10.11, and bar/foo.
const SERVICES = (): KubeList => JSON.parse(fixture('kube/services/service-list.json')) as KubeList;
const SERVICE_ENTRIES = (): KubeList => JSON.parse(fixture('kube/services/serviceentry-list.json')) as KubeList;
// A revision's pods carry no istio=pilot label: the chart gives it to the default revision only, whose Service selects it.
const ISTIOD_POD = {
  metadata: { name: 'istiod-a', namespace: 'istio-system', labels: { app: 'istiod', 'istio.io/rev': 'rev-1' } },
  status: { phase: 'Running' },
};

function withMesh(bundle: EvidenceBundle, parts: { services?: KubeList | null; serviceEntries?: KubeList | null } = {}): EvidenceBundle {
  const cluster = bundle.cluster!;
  cluster.istiodPods = { items: [ISTIOD_POD] };
  if (parts.services !== null) cluster.services = parts.services ?? SERVICES();
  if (parts.serviceEntries !== null) cluster.serviceEntries = parts.serviceEntries ?? SERVICE_ENTRIES();
  return bundle;
}

const entry = (namespace: string, name: string, labels: Record<string, string>): unknown => {
  const we = workloadEntry(namespace, 'g', '10.0.0.7', { name }) as { spec: Record<string, unknown> };
  return { ...we, spec: { ...we.spec, labels } };
};

describe('REG-08: the entry is selected by a Service or a ServiceEntry', () => {
  const reg08 = (entries: unknown[], parts?: Parameters<typeof withMesh>[1], mutate?: (b: EvidenceBundle) => void) => {
    const bundle = withMesh(buildBundle({ vms: [], entries }), parts);
    mutate?.(bundle);
    return findingsOf(bundle, 'REG-08');
  };

  it('passes an entry a Service of its namespace selects, or a ServiceEntry whose workloadSelector does', () => {
    expect(reg08([entry('bar', 'foo-vm', { app: 'foo', version: 'v1' }), entry('bar', 'batch-vm', { app: 'legacy-batch' })])).toEqual({
      'bar/batch-vm': { status: 'PASS', message: 'selected by ServiceEntry legacy-batch' },
      'bar/foo-vm': { status: 'PASS', message: 'selected by Service foo' },
    });
  });

  it('fails an entry nothing selects: other labels, another namespace, a selector it only half matches', () => {
    const found = reg08([
      entry('bar', 'canary-vm', { app: 'foo-canary' }),
      entry('payments', 'foo-vm', { app: 'foo' }),
      entry('bar', 'unlabelled-vm', {}),
    ]);
    expect(found['bar/canary-vm']).toEqual({
      status: 'FAIL',
      message: 'no Service or ServiceEntry of bar selects its labels (app=foo-canary): the mesh sends it no traffic',
    });
    expect(found['payments/foo-vm']!.status).toBe('FAIL');
    expect(found['bar/unlabelled-vm']!.message).toContain('(none)');
    const twoKeys = reg08([entry('bar', 'half-vm', { app: 'foo' })], {}, (b) => {
      const foo = b.cluster!.services!.items.find((s) => (s as { metadata: { name: string } }).metadata.name === 'foo') as {
        spec: { selector: Record<string, string> };
      };
      foo.spec.selector = { app: 'foo', tier: 'backend' };
    });
    expect(twoKeys['bar/half-vm']!.status).toBe('FAIL');
  });

  it('never selects with an empty selector (a Service with hand-made endpoints)', () => {
    const found = reg08([entry('bar', 'x-vm', { app: 'x' })], {}, (b) => {
      b.cluster!.services!.items.push({ metadata: { name: 'manual', namespace: 'bar' }, spec: { selector: {} } });
    });
    expect(found['bar/x-vm']!.status).toBe('FAIL');
  });

  it('is ERROR naming the entry when a part is missing, unreadable for its namespace, or holds an object it cannot read', () => {
    expect(reg08([entry('bar', 'foo-vm', { app: 'foo' })], { services: null })).toEqual({
      'bar/foo-vm': {
        status: 'ERROR',
        message: 'the bundle holds no cluster/services.json: which Services select the entry cannot be told',
      },
    });
    const forbidden = reg08([entry('bar', 'x-vm', { app: 'x' })], {}, (b) => {
      b.cluster!.problems = [
        { part: 'services', target: 'bar', call: 'GET /api/v1/namespaces/bar/services', kind: 'forbidden', status: 403, message: '403' },
      ];
    });
    expect(forbidden['bar/x-vm']).toEqual({ status: 'ERROR', message: 'the services of bar could not be read: 403' });
    const malformed = reg08([entry('bar', 'x-vm', { app: 'x' })], {}, (b) => {
      b.cluster!.serviceEntries!.items.push({ metadata: { name: 'broken', namespace: 'bar' }, spec: 'nope' });
    });
    expect(malformed['bar/x-vm']!.status).toBe('ERROR');
    expect(malformed['bar/x-vm']!.message).toContain('ServiceEntry bar/broken could not be read');
  });

  it('speaks of the fleet when there are no WorkloadEntries at all', () => {
    expect(findingsOf(buildBundle({ vms: [], cluster: false }), 'REG-08')).toEqual({
      fleet: { status: 'ERROR', message: 'the bundle holds no WorkloadEntries (cluster/workloadentries.json is missing)' },
    });
  });
});

describe('CFG-02: the control plane the VM is pinned to exists', () => {
  const REV1 = ["CA_ADDR='istiod-rev-1.istio-system.svc:15012'"];
  const MESH = { name: 'mesh-config', content: fixture('fake-vm/mesh.yaml') };
  const HOSTS = { name: 'hosts', content: fixture('fake-vm/hosts') };
  const cfg02 = (vm: Partial<TestVm>, parts?: Parameters<typeof withMesh>[1], mutate?: (b: EvidenceBundle) => void) => {
    const bundle = withMesh(buildBundle({ vms: [{ instanceId: ID, env: REV1, sections: [MESH, HOSTS], ...vm }] }), parts);
    mutate?.(bundle);
    return findingsOf(bundle, 'CFG-02')[ID]!;
  };

  it("passes the VM istioctl configured: its revision's Service has a running pod, its pin the gateway's address", () => {
    expect(cfg02({})).toEqual({
      status: 'PASS',
      message:
        'discoveryAddress and CA_ADDR istiod-rev-1.istio-system.svc:15012: the Service istiod-rev-1 (revision rev-1) selects 1 running istiod pod(s); ' +
        "/etc/hosts pins istiod-rev-1.istio-system.svc to 10.10.10.11, the east-west gateway istio-system/istio-eastwestgateway's address",
    });
  });

  it('fails a removed revision: no Service, or a Service whose pods are gone', () => {
    const removed = cfg02({
      env: ["CA_ADDR='istiod-1-22.istio-system.svc:15012'"],
      sections: [{ name: 'mesh-config', content: '' }, HOSTS],
    });
    expect(removed).toEqual({
      status: 'FAIL',
      message: 'CA_ADDR istiod-1-22.istio-system.svc:15012 names the Service istiod-1-22, which istio-system does not have',
    });
    const noPods = cfg02({}, {}, (b) => {
      b.cluster!.istiodPods = {
        items: [{ ...ISTIOD_POD, metadata: { ...ISTIOD_POD.metadata, labels: { app: 'istiod', 'istio.io/rev': 'default' } } }],
      };
    });
    expect(noPods.message).toBe(
      'discoveryAddress and CA_ADDR istiod-rev-1.istio-system.svc:15012: the Service istiod-rev-1 (revision rev-1) selects no running istiod pod',
    );
  });

  it('checks CA_ADDR and discoveryAddress each when they differ, and the default when neither is set', () => {
    const split = cfg02({ env: ["CA_ADDR='istiod.istio-system.svc:15012'"] });
    expect(split.status).toBe('FAIL');
    expect(split.message).toContain(
      'CA_ADDR istiod.istio-system.svc:15012: the Service istiod (revision default) selects no running istiod pod',
    );
    expect(cfg02({ env: [], sections: [{ name: 'mesh-config', content: '' }, HOSTS] }).message).toContain(
      'the default discovery address istiod.istio-system.svc:15012',
    );
  });

  it('fails a pin to an address neither the Service nor the gateway has, naming the ones they have', () => {
    expect(cfg02({ sections: [MESH, { name: 'hosts', content: '10.10.10.12 istiod-rev-1.istio-system.svc\n' }] })).toEqual({
      status: 'FAIL',
      message:
        '/etc/hosts pins istiod-rev-1.istio-system.svc to 10.10.10.12, an address neither the Service istio-system/istiod-rev-1 nor the ' +
        'east-west gateway istio-system/istio-eastwestgateway has (they have 172.20.63.140, 10.10.10.11)',
    });
  });

  it("passes a pin to the Service's own address, and no pin at all", () => {
    expect(cfg02({ sections: [MESH, { name: 'hosts', content: '172.20.63.140 istiod-rev-1.istio-system.svc\n' }] }).status).toBe('PASS');
    expect(cfg02({ sections: [MESH, { name: 'hosts', content: '', rc: 1 }] }).message).toContain(
      '/etc/hosts does not pin istiod-rev-1.istio-system.svc: it is resolved by DNS',
    );
  });

  it('skips, saying why, a pin it could only compare with a load balancer known by DNS name', () => {
    const found = cfg02({ sections: [MESH, { name: 'hosts', content: '10.10.10.12 istiod-rev-1.istio-system.svc\n' }] }, {}, (b) => {
      const gateway = b.cluster!.services!.items.find(
        (s) => (s as { metadata: { name: string } }).metadata.name === 'istio-eastwestgateway',
      ) as { status: unknown };
      gateway.status = { loadBalancer: { ingress: [{ hostname: 'a1b2-east-west.elb.us-east-1.amazonaws.com' }] } };
    });
    expect(found).toEqual({
      status: 'SKIP',
      message:
        '/etc/hosts pins istiod-rev-1.istio-system.svc to 10.10.10.12, which is no IP the Services show; their load balancer is known by ' +
        'DNS name only (a1b2-east-west.elb.us-east-1.amazonaws.com), which the audit does not resolve',
    });
  });

  it('skips a discovery address that is no cluster Service name, and checks one given as an IP', () => {
    const external = cfg02({ env: ["CA_ADDR='cp.example.com:15012'"], sections: [{ name: 'mesh-config', content: '' }, HOSTS] });
    expect(external.status).toBe('SKIP');
    expect(cfg02({ env: ["CA_ADDR='10.10.10.11:15012'"], sections: [{ name: 'mesh-config', content: '' }, HOSTS] }).status).toBe('PASS');
    expect(cfg02({ env: ["CA_ADDR='10.10.10.99:15012'"], sections: [{ name: 'mesh-config', content: '' }, HOSTS] }).status).toBe('FAIL');
  });

  it('is ERROR when the Services, the pin or the mesh config cannot be read', () => {
    expect(cfg02({}, { services: null }).message).toContain('the bundle holds no Services (cluster/services.json is missing)');
    expect(cfg02({ sections: [MESH, { name: 'hosts', content: '10.10.10.11 istiod-rev-', cut: true }] })).toMatchObject({
      status: 'ERROR',
      message: 'the /etc/hosts pin of istiod-rev-1.istio-system.svc cannot be read: section hosts was cut',
    });
    expect(cfg02({ sections: [{ name: 'mesh-config', content: 'defaultConfig: [' }, HOSTS] }).status).toBe('ERROR');
    const unread = cfg02({}, {}, (b) => {
      b.cluster!.problems = [
        {
          part: 'services',
          target: 'istio-system',
          call: 'GET /api/v1/namespaces/istio-system/services',
          kind: 'forbidden',
          message: '403',
        },
      ];
    });
    expect(unread.status).toBe('ERROR');
  });
});
