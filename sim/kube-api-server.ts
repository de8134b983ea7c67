import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClusterEvidence } from '../lib/core/evidence-bundle.ts';
import { mintLoopbackServerCertificate } from './certificates.ts';
import { holdUnanswered, SimFaultPlan } from './fault-plan.ts';
import { burstReply, forbidden, notFound, statusObject, UNAUTHORIZED, type ApiReply } from './kube/api-replies.ts';
import { asObjects, getObject, listObjects, objectKey, type KubeCollection } from './kube/object-store.ts';
import type { KubeApiFaults } from './kube/api-faults.ts';
import { istiodPortForward } from './kube/port-forward.ts';
import { allows, grantsFor } from './kube/rbac.ts';
import { DISCOVERY, ISTIO_VERSION, NETWORKING_GROUP, requestAttributes, type RequestAttributes } from './kube/routing.ts';

export type { KubeApiFaults } from './kube/api-faults.ts';

/**
 * A Kubernetes API server on 127.0.0.1 that serves a simulated mesh the way kube-apiserver and the
 * kubelet do, so that @kubernetes/client-node talks to it unchanged: the list/get paths and JSON
 * shapes (Lists with limit/continue pagination), Status objects for errors, bearer-token
 * authentication, RBAC enforced from the project's own infra/k8s/rbac.yaml, and the pods/portforward
 * WebSocket (v4.channel.k8s.io) through which istiod's /debug/syncz on port 15014 answers HTTP/1.1.
 *
 * This module authenticates and wires the pieces under kube/: routing.ts (RequestInfo, discovery), rbac.ts,
 * api-replies.ts (Status objects), object-store.ts (list/get), port-forward.ts (kubelet and istiod) and api-faults.ts
 * (the faults a test can ask for).
 */

export interface KubeApiServerOptions {
  /** What the cluster holds: WorkloadEntries, WorkloadGroups, istiod pods, each pod's syncz, root CA ConfigMaps, Services, ServiceEntries. */
  cluster: ClusterEvidence;
  /** RBAC manifest; default infra/k8s/rbac.yaml of this repository. */
  rbacYaml?: string;
  /** The identity the token stands for; default the ServiceAccount fleet-audit/fleet-audit. */
  serviceAccount?: { namespace: string; name: string };
  /** Bearer token to accept; default a random one. */
  token?: string;
  faults?: KubeApiFaults;
  /** Clock for Date headers and the serving certificate; default the real one. */
  clock?: () => Date;
  /**
   * Serve HTTPS with a private CA that the kubeconfig carries (default), as a real API server does;
   * false serves plain HTTP, which client-node accepts only with insecure-skip-tls-verify.
   */
  tls?: boolean;
}

export interface KubeApiRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The Kubernetes verb the request was authorized as ('' for discovery and unauthenticated requests). */
  verb: string;
  resource: string;
  namespace: string | undefined;
  status: number;
  websocket: boolean;
}

export interface KubeApiServer {
  url: string;
  token: string;
  /** A kubeconfig whose current context points at this server with this token (or another one). */
  kubeconfigYaml(options?: { token?: string }): string;
  /** Every request served so far, in arrival order. */
  readonly requests: readonly KubeApiRequestRecord[];
  /** The plan of `faults.bursts`, with what it injected. */
  bursts: SimFaultPlan;
  close(): Promise<void>;
}

/** Starts the simulated Kubernetes API server on 127.0.0.1 and an ephemeral port. */
export async function startKubeApiServer(options: KubeApiServerOptions): Promise<KubeApiServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const account = options.serviceAccount ?? { namespace: 'fleet-audit', name: 'fleet-audit' };
  const user = `system:serviceaccount:${account.namespace}:${account.name}`;
  const rbacYaml = options.rbacYaml ?? readFileSync(new URL('../infra/k8s/rbac.yaml', import.meta.url), 'utf8');
  const grants = grantsFor(rbacYaml, account);
  const faults = options.faults ?? {};
  const bursts = new SimFaultPlan(faults.bursts);
  const clock = options.clock ?? ((): Date => new Date());
  const cluster = options.cluster;
  const listResourceVersion = 100_000 + Object.keys(cluster.syncz).length;
  const requests: KubeApiRequestRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<WebSocket>();
  let closing = false;

  const collections: Record<string, KubeCollection> = {
    workloadentries: { group: NETWORKING_GROUP, kind: 'WorkloadEntry', items: asObjects(cluster.workloadEntries?.items) },
    workloadgroups: { group: NETWORKING_GROUP, kind: 'WorkloadGroup', items: asObjects(cluster.workloadGroups?.items) },
    pods: { group: '', kind: 'Pod', items: asObjects(cluster.istiodPods?.items) },
    configmaps: { group: '', kind: 'ConfigMap', items: asObjects(Object.values(cluster.rootCa)) },
    services: { group: '', kind: 'Service', items: asObjects(cluster.services?.items) },
    serviceentries: { group: NETWORKING_GROUP, kind: 'ServiceEntry', items: asObjects(cluster.serviceEntries?.items) },
  };
  for (const c of Object.values(collections))
    c.items.sort((a, b) => (objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0));

  const delay = (target: string): Promise<void> => {
    const ms = Math.max(
      0,
      ...(faults.slow ?? []).filter((s) => s.target === target || target.startsWith(`${s.target}/`)).map((s) => s.delayMs),
    );
    if (ms === 0 || closing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  };

  const authenticated = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization ?? '';
    const presented = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    const expected = Buffer.from(token);
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  };

  /** The first of `verbs` that is not allowed, with its 403; undefined when all are. */
  const authorize = (a: RequestAttributes, verbs: readonly string[]): { reply: ApiReply; attrs: RequestAttributes } | undefined => {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const injected = (faults.forbidden ?? []).some(
      (f) => f.resource === resource && (f.namespace === undefined || f.namespace === a.namespace),
    );
    for (const verb of verbs) {
      if (injected || !allows(grants, { ...a, verb })) return { reply: forbidden(user, { ...a, verb }), attrs: { ...a, verb } };
    }
    return undefined;
  };

  const serve = async (req: IncomingMessage, url: URL): Promise<{ reply: ApiReply; attrs?: RequestAttributes; unanswered?: true }> => {
    if (!authenticated(req)) return { reply: UNAUTHORIZED };
    const discovery = DISCOVERY[url.pathname.replace(/\/$/, '')];
    if (discovery !== undefined && req.method === 'GET') return { reply: { status: 200, body: discovery } };
    const attrs = requestAttributes(req.method ?? 'GET', url.pathname, url.searchParams);
    if (!attrs) return { reply: statusObject(404, 'NotFound', 'the server could not find the requested resource') };
    const denied = authorize(attrs, [attrs.verb]);
    if (denied) return denied;
    const known = collections[attrs.resource];
    const versionOk =
      known &&
      (known.group === '' ? url.pathname.startsWith('/api/v1/') : url.pathname.startsWith(`/apis/${known.group}/${ISTIO_VERSION}/`));
    if (!known || known.group !== attrs.group || !versionOk) return { reply: notFound(attrs), attrs };
    if (attrs.resource === 'pods' && attrs.subresource === 'portforward') {
      return { reply: statusObject(400, 'BadRequest', 'Upgrade request required'), attrs };
    }
    if (attrs.resource === 'pods' && attrs.subresource === 'proxy') {
      // The API server forwards to istiod without the caller's token; istiod trusts only loopback or a token.
      return { reply: { status: 401, body: '' }, attrs };
    }
    if (attrs.subresource) return { reply: notFound(attrs), attrs };
    await delay(attrs.resource);
    const burst = attrs.verb === 'list' ? bursts.take(`list ${attrs.resource}`, url.pathname) : undefined;
    if (burst === 'timeout') return { reply: statusObject(504, 'Timeout', 'unanswered'), attrs, unanswered: true };
    if (burst !== undefined) return { reply: burstReply(burst), attrs };
    if (attrs.verb === 'list') return { reply: listObjects(known, attrs, url.searchParams, listResourceVersion), attrs };
    if (attrs.verb === 'get') return { reply: getObject(known, attrs), attrs };
    return { reply: statusObject(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`), attrs };
  };

  const tls = options.tls === false ? undefined : await mintLoopbackServerCertificate({ now: clock() });
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    serve(req, url).then(
      ({ reply, attrs, unanswered }) => {
        record(req, url, attrs, reply.status, false);
        if (unanswered) return void holdUnanswered(res);
        if (res.destroyed) return;
        const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        res.writeHead(reply.status, {
          'Content-Type': typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
          'Content-Length': Buffer.byteLength(body),
        });
        res.end(body);
      },
      (error: unknown) => {
        record(req, url, undefined, 500, false);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(statusObject(500, 'InternalError', String(error)).body));
      },
    );
  };
  const server = tls ? createHttpsServer({ cert: tls.certificatePem, key: tls.privateKeyPem }, handle) : createHttpServer(handle);

  const record = (req: IncomingMessage, url: URL, attrs: RequestAttributes | undefined, status: number, websocket: boolean): void => {
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      verb: attrs?.verb ?? '',
      resource: attrs ? (attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource) : '',
      namespace: attrs?.namespace,
      status,
      websocket,
    });
  };

  // ------------------------------------------------------------------------------- port-forward

  const forwardPort = istiodPortForward({ cluster, faults, bursts, clock, delay, isClosing: () => closing });

  const wss = new WebSocketServer({
    noServer: true,
    // kubelet's WebSocket port-forward speaks the v4 channel protocol; client-node offers v5 first.
    handleProtocols: (protocols) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reject = (reply: ApiReply, attrs?: RequestAttributes): void => {
      record(req, url, attrs, reply.status, true);
      const body = JSON.stringify(reply.body);
      socket.end(
        `HTTP/1.1 ${reply.status} ${reply.status === 401 ? 'Unauthorized' : reply.status === 403 ? 'Forbidden' : reply.status === 404 ? 'Not Found' : 'Bad Request'}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (!authenticated(req)) return reject(UNAUTHORIZED);
    const attrs = requestAttributes(req.method ?? 'GET', url.pathname, url.searchParams);
    if (!attrs || attrs.resource !== 'pods' || attrs.subresource !== 'portforward' || attrs.group !== '') {
      return reject(statusObject(400, 'BadRequest', 'only pods/portforward accepts a WebSocket upgrade here'), attrs);
    }
    // A WebSocket upgrade is a GET; since Kubernetes 1.35 it must also pass a synthetic `create` check.
    const denied = authorize(attrs, ['get', 'create']);
    if (denied) return reject(denied.reply, denied.attrs);
    const pod = collections.pods!.items.find((p) => p.metadata?.name === attrs.name && p.metadata?.namespace === attrs.namespace);
    if (!pod) return reject(notFound(attrs), attrs);
    const ports = url.searchParams.getAll('ports');
    const port = Number(ports[0]);
    if (ports.length !== 1 || !Number.isInteger(port) || port < 1 || port > 65535) {
      return reject(statusObject(400, 'BadRequest', 'query parameter "ports" is required and must be a single port number'), attrs);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      record(req, url, attrs, 101, true);
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      forwardPort(ws, attrs.name!, port);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    requests,
    bursts,
    kubeconfigYaml: (opts = {}) =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: sim',
        '  cluster:',
        `    server: ${url}`,
        tls ? `    certificate-authority-data: ${Buffer.from(tls.caPem).toString('base64')}` : '    insecure-skip-tls-verify: true',
        'contexts:',
        '- name: sim',
        '  context:',
        '    cluster: sim',
        `    user: ${account.name}`,
        `    namespace: ${account.namespace}`,
        'current-context: sim',
        'users:',
        `- name: ${account.name}`,
        '  user:',
        `    token: ${JSON.stringify(opts.token ?? token)}`,
        '',
      ].join('\n'),
    close: async () => {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
