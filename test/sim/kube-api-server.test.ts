import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { load } from 'js-yaml';
import type { ClusterEvidence } from '../../lib/core/evidence-bundle.ts';
import { startKubeApiServer, type KubeApiServer } from '../../sim/kube-api-server.ts';

const entry = (ns: string, name: string): object => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'WorkloadEntry',
  metadata: { name, namespace: ns },
  spec: { address: `10.0.0.${name.length}` },
});
const pod = (name: string): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'istio-system', labels: { app: 'istiod' } },
  status: { phase: 'Running' },
});

const CLUSTER: ClusterEvidence = {
  workloadEntries: {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntryList',
    items: [entry('b', 'we-3'), entry('a', 'we-1'), entry('a', 'we-2'), entry('c', 'we-4'), entry('c', 'we-5')],
  },
  workloadGroups: { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroupList', items: [] },
  istiodPods: {
    apiVersion: 'v1',
    kind: 'PodList',
    items: [
      pod('istiod-1'),
      pod('istiod-2'),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: 'istio-system', labels: { app: 'ingress' } } },
    ],
  },
  syncz: { 'istiod-1': [{ proxy: 'vm-1.a', istio_version: '1.24.6', big: 'x'.repeat(5000) }], 'istiod-2': [{ proxy: 'vm-2.b' }] },
  rootCa: {
    a: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: 'a' }, data: { 'root-cert.pem': 'PEM' } },
  },
  services: {
    apiVersion: 'v1',
    kind: 'ServiceList',
    items: [
      { metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' } }, spec: { clusterIP: '10.96.0.10' } },
      { metadata: { name: 'app', namespace: 'a' }, spec: { selector: { app: 'app' } } },
    ],
  },
  serviceEntries: {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntryList',
    items: [
      { metadata: { name: 'vm-app', namespace: 'b' }, spec: { hosts: ['vm-app.b.svc'], workloadSelector: { labels: { app: 'vm' } } } },
    ],
  },
};

interface Reply {
  status: number;
  json: Record<string, unknown>;
}

function get(server: KubeApiServer, path: string, token: string | null = server.token): Promise<Reply> {
  const url = new URL(path, server.url);
  const ca = (load(server.kubeconfigYaml()) as { clusters: Array<{ cluster: Record<string, string> }> }).clusters[0]!.cluster[
    'certificate-authority-data'
  ];
  const options = { headers: token === null ? {} : { Authorization: `Bearer ${token}` }, ...(ca ? { ca: Buffer.from(ca, 'base64') } : {}) };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: body ? (JSON.parse(body) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Forwarded {
  frames: Buffer[];
  data: string;
  errors: string;
}

function portForward(server: KubeApiServer, podName: string, request: string | null, token = server.token): Promise<Forwarded> {
  const ws = new WebSocket(
    `${server.url.replace(/^http/, 'ws')}/api/v1/namespaces/istio-system/pods/${podName}/portforward?ports=15014`,
    ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
    {
      headers: { Authorization: `Bearer ${token}` },
      rejectUnauthorized: false,
      handshakeTimeout: 5000,
    },
  );
  const frames: Buffer[] = [];
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
    ws.on('open', () => {
      expect(ws.protocol).toBe('v4.channel.k8s.io');
      if (request !== null) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(request)]));
    });
    ws.on('message', (data: Buffer) => frames.push(data));
    ws.on('close', () => {
      const channel = (n: number): string =>
        frames
          .filter((f) => f[0] === n)
          .map((f, i) => (i === 0 ? f.subarray(3) : f.subarray(1)))
          .map((b) => b.toString('latin1'))
          .join('');
      resolve({ frames, data: channel(0), errors: channel(1) });
    });
  });
}

describe('the simulated Kubernetes API server', () => {
  let server: KubeApiServer;
  beforeAll(async () => {
    server = await startKubeApiServer({
      cluster: CLUSTER,
      faults: { replicaDown: ['istiod-2'], truncatedSyncz: [], forbidden: [{ resource: 'configmaps', namespace: 'c' }] },
    });
  });
  afterAll(() => server.close());

  it('serves HTTPS with a CA carried by its kubeconfig', () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.kubeconfigYaml()).toContain('certificate-authority-data: ');
  });

  it('answers 401 with a Status to a missing or wrong bearer token', async () => {
    for (const token of [null, 'wrong']) {
      const reply = await get(server, '/apis/networking.istio.io/v1/workloadentries', token);
      expect(reply).toEqual({
        status: 401,
        json: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'Unauthorized',
          reason: 'Unauthorized',
          code: 401,
        },
      });
    }
  });

  it('pages a list with limit and an opaque continue token, as the API server does', async () => {
    const first = await get(server, '/apis/networking.istio.io/v1/workloadentries?limit=2');
    const meta = first.json.metadata as { continue?: string; remainingItemCount?: number };
    expect(first.json).toMatchObject({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntryList' });
    expect((first.json.items as Array<{ metadata: { name: string }; kind: string }>).map((i) => [i.metadata.name, i.kind])).toEqual([
      ['we-1', 'WorkloadEntry'],
      ['we-2', 'WorkloadEntry'],
    ]);
    expect(meta.remainingItemCount).toBe(3);
    const second = await get(server, `/apis/networking.istio.io/v1/workloadentries?limit=2&continue=${meta.continue}`);
    expect((second.json.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name)).toEqual(['we-3', 'we-4']);
    const third = await get(
      server,
      `/apis/networking.istio.io/v1/workloadentries?limit=2&continue=${(second.json.metadata as { continue: string }).continue}`,
    );
    expect((third.json.items as unknown[]).length).toBe(1);
    expect(third.json.metadata).not.toHaveProperty('continue');
    expect((await get(server, '/apis/networking.istio.io/v1/workloadentries?continue=bm9wZQ')).status).toBe(400);
  });

  it('lists one namespace, and istiod pods by label, without type meta on core List items', async () => {
    const ns = await get(server, '/apis/networking.istio.io/v1/namespaces/c/workloadentries');
    expect((ns.json.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name)).toEqual(['we-4', 'we-5']);
    const pods = await get(server, '/api/v1/namespaces/istio-system/pods?labelSelector=app%3Distiod');
    expect(pods.json).toMatchObject({ kind: 'PodList', apiVersion: 'v1' });
    expect(pods.json.items).toEqual([
      { metadata: { name: 'istiod-1', namespace: 'istio-system', labels: { app: 'istiod' } }, status: { phase: 'Running' } },
      { metadata: { name: 'istiod-2', namespace: 'istio-system', labels: { app: 'istiod' } }, status: { phase: 'Running' } },
    ]);
  });

  it("lists the Services of a namespace, istiod's by label, and the ServiceEntries of a namespace: infra/k8s/rbac.yaml grants them", async () => {
    const ofA = await get(server, '/api/v1/namespaces/a/services');
    expect(ofA.json).toMatchObject({ kind: 'ServiceList', apiVersion: 'v1' });
    expect((ofA.json.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name)).toEqual(['app']);
    const istiod = await get(server, '/api/v1/namespaces/istio-system/services?labelSelector=app%3Distiod');
    expect((istiod.json.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name)).toEqual(['istiod']);
    const entries = await get(server, '/apis/networking.istio.io/v1/namespaces/b/serviceentries');
    expect(entries.json).toMatchObject({ kind: 'ServiceEntryList', apiVersion: 'networking.istio.io/v1' });
    expect(entries.json.items).toEqual([
      expect.objectContaining({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'vm-app', namespace: 'b' } }),
    ]);
    expect((await get(server, '/api/v1/namespaces/a/services/app')).status).toBe(200);
  });

  it('gets the root CA ConfigMap, and answers 404 with a Status where there is none', async () => {
    expect(await get(server, '/api/v1/namespaces/a/configmaps/istio-ca-root-cert')).toMatchObject({
      status: 200,
      json: { kind: 'ConfigMap', data: { 'root-cert.pem': 'PEM' } },
    });
    expect(await get(server, '/api/v1/namespaces/b/configmaps/istio-ca-root-cert')).toMatchObject({
      status: 404,
      json: { kind: 'Status', reason: 'NotFound', message: 'configmaps "istio-ca-root-cert" not found', code: 404 },
    });
  });

  it.each([
    [
      'list secrets',
      '/api/v1/namespaces/istio-system/secrets',
      'secrets is forbidden: User "system:serviceaccount:fleet-audit:fleet-audit" cannot list resource "secrets" in API group "" in the namespace "istio-system"',
    ],
    [
      'read istiod through pods/proxy',
      '/api/v1/namespaces/istio-system/pods/istiod-1/proxy/debug/syncz',
      'pods "istiod-1" is forbidden: User "system:serviceaccount:fleet-audit:fleet-audit" cannot get resource "pods/proxy" in API group "" in the namespace "istio-system"',
    ],
    [
      'get another ConfigMap',
      '/api/v1/namespaces/a/configmaps/kube-root-ca.crt',
      'configmaps "kube-root-ca.crt" is forbidden: User "system:serviceaccount:fleet-audit:fleet-audit" cannot get resource "configmaps" in API group "" in the namespace "a"',
    ],
    [
      'list ConfigMaps',
      '/api/v1/namespaces/a/configmaps',
      'configmaps is forbidden: User "system:serviceaccount:fleet-audit:fleet-audit" cannot list resource "configmaps" in API group "" in the namespace "a"',
    ],
    [
      'list pods outside istio-system',
      '/api/v1/namespaces/a/pods',
      'pods is forbidden: User "system:serviceaccount:fleet-audit:fleet-audit" cannot list resource "pods" in API group "" in the namespace "a"',
    ],
    [
      'watch Services',
      '/api/v1/namespaces/a/services?watch=true',
      'services is forbidden: User "system:serviceaccount:fleet-audit:fleet-audit" cannot watch resource "services" in API group "" in the namespace "a"',
    ],
    [
      'list pods of all namespaces',
      '/api/v1/pods',
      'pods is forbidden: User "system:serviceaccount:fleet-audit:fleet-audit" cannot list resource "pods" in API group "" at the cluster scope',
    ],
  ])('refuses to %s: infra/k8s/rbac.yaml does not grant it (403 Status)', async (_what, path, message) => {
    const reply = await get(server, path);
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message });
  });

  it('answers 403 where a fault says so even though RBAC allows it', async () => {
    expect((await get(server, '/api/v1/namespaces/c/configmaps/istio-ca-root-cert')).status).toBe(403);
  });

  it('forwards port 15014 over v4.channel.k8s.io: each channel opens with the port, little-endian, then istiod answers HTTP/1.1', async () => {
    const forwarded = await portForward(
      server,
      'istiod-1',
      'GET /debug/syncz HTTP/1.1\r\nHost: localhost:15014\r\nConnection: close\r\n\r\n',
    );
    expect(forwarded.frames[0]).toEqual(Buffer.from([0, 0xa6, 0x3a]));
    expect(forwarded.frames[1]).toEqual(Buffer.from([1, 0xa6, 0x3a]));
    expect(forwarded.errors).toBe('');
    const [head, ...rest] = forwarded.data.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toContain('Transfer-Encoding: chunked');
    const chunked = rest.join('\r\n\r\n');
    let body = '';
    for (let offset = 0, guard = 0; guard < 100; guard++) {
      const eol = chunked.indexOf('\r\n', offset);
      const size = parseInt(chunked.slice(offset, eol), 16);
      if (size === 0) break;
      body += chunked.slice(eol + 2, eol + 2 + size);
      offset = eol + 2 + size + 2;
    }
    expect(JSON.parse(body)).toEqual(CLUSTER.syncz['istiod-1']);
  });

  it('reports a down replica on the error channel and closes', async () => {
    const forwarded = await portForward(server, 'istiod-2', null);
    expect(forwarded.data).toBe('');
    expect(forwarded.errors).toMatch(/error forwarding port 15014 to pod istiod-2.*connect: connection refused/);
  });

  it('refuses a port-forward upgrade without a valid token (401) or to a pod that does not exist (404)', async () => {
    await expect(portForward(server, 'istiod-1', null, 'wrong')).rejects.toThrow('HTTP 401');
    await expect(portForward(server, 'istiod-9', null)).rejects.toThrow('HTTP 404');
  });

  it('records every request with the verb it was authorized as', () => {
    const upgrades = server.requests.filter((r) => r.websocket && r.status === 101);
    expect(upgrades.map((r) => [r.verb, r.resource, r.namespace])).toContainEqual(['get', 'pods/portforward', 'istio-system']);
    expect(server.requests.filter((r) => r.verb === 'list' && r.resource === 'workloadentries').length).toBeGreaterThanOrEqual(4);
  });
});

describe('RBAC from another manifest', () => {
  const onlyGet = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: istio-system}
rules:
- {apiGroups: [""], resources: ["pods/portforward"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: r, namespace: istio-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: ServiceAccount, name: fleet-audit, namespace: fleet-audit}]
`;
  let server: KubeApiServer;
  beforeAll(async () => {
    server = await startKubeApiServer({ cluster: CLUSTER, rbacYaml: onlyGet, tls: false });
  });
  afterAll(() => server.close());

  it('refuses a WebSocket port-forward granted only get, as Kubernetes 1.35 does with its create check', async () => {
    await expect(portForward(server, 'istiod-1', null)).rejects.toThrow('HTTP 403');
    expect(server.requests.at(-1)).toMatchObject({ verb: 'create', resource: 'pods/portforward', status: 403, websocket: true });
  });

  it('serves plain HTTP when asked, with a kubeconfig that says so', async () => {
    expect(server.url).toMatch(/^http:\/\//);
    expect(server.kubeconfigYaml()).toContain('insecure-skip-tls-verify: true');
    expect((await get(server, '/apis/networking.istio.io/v1/workloadentries')).status).toBe(403);
  });
});
