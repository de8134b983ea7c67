import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { loadAll } from 'js-yaml';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { z } from 'zod';
import type { ClusterEvidence } from '../lib/core/evidence-bundle.ts';
import { mintLoopbackServerCertificate } from './certificates.ts';
import { holdUnanswered, SimFaultPlan, type SimFaultRule, type SimFaultKind } from './fault-plan.ts';

/**
 * A Kubernetes API server on 127.0.0.1 that serves a simulated mesh the way kube-apiserver and the
 * kubelet do, so that @kubernetes/client-node talks to it unchanged: the list/get paths and JSON
 * shapes (Lists with limit/continue pagination), Status objects for errors, bearer-token
 * authentication, RBAC enforced from the project's own infra/k8s/rbac.yaml, and the pods/portforward
 * WebSocket (v4.channel.k8s.io) through which istiod's /debug/syncz on port 15014 answers HTTP/1.1.
 */

export interface KubeApiFaults {
  /** istiod pods whose port 15014 refuses the forwarded connection (the error channel says so). */
  replicaDown?: readonly string[];
  /** Resources (plural, `pods/portforward` for a subresource) answered with 403 whatever RBAC says, optionally in one namespace. */
  forbidden?: ReadonlyArray<{ resource: string; namespace?: string }>;
  /** Answers delayed by `delayMs`: `target` is a resource plural, or `syncz` (optionally `syncz/<pod>`). */
  slow?: ReadonlyArray<{ target: string; delayMs: number }>;
  /** istiod pods whose /debug/syncz body stops halfway (the connection closes before Content-Length is reached). */
  truncatedSyncz?: readonly string[];
  /** istiod pods whose /debug/syncz answers 200 with a body that is not JSON. */
  garbledSyncz?: readonly string[];
  /** Proxies that a second replica also lists, as right after a reconnect to another replica. */
  movedProxies?: ReadonlyArray<{ proxy: string; alsoOn: string }>;
  /**
   * Bursts on list calls (`list <resource>`) and on istiod's syncz (`syncz`, `syncz/<pod>`): 429
   * TooManyRequests or 503 from istiod, 500, or no answer (fault-plan.ts).
   */
  bursts?: readonly SimFaultRule[];
}

export interface KubeApiServerOptions {
  /** What the cluster holds: WorkloadEntries, WorkloadGroups, istiod pods, each pod's syncz, root CA ConfigMaps. */
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

const NETWORKING_GROUP = 'networking.istio.io';
const ISTIO_VERSION = 'v1';
const SYNCZ_PORT = 15014;
const MAX_FORWARDED_REQUEST_BYTES = 64 * 1024;
const CHUNKED_ABOVE_BYTES = 2048;

// ---------------------------------------------------------------------------------------------- RBAC

const PolicyRuleSchema = z.looseObject({
  apiGroups: z.array(z.string()).default([]),
  resources: z.array(z.string()).default([]),
  verbs: z.array(z.string()),
  resourceNames: z.array(z.string()).optional(),
});
type PolicyRule = z.infer<typeof PolicyRuleSchema>;

const RoleSchema = z.looseObject({
  kind: z.enum(['Role', 'ClusterRole']),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  rules: z.array(PolicyRuleSchema).nullish(),
});

const BindingSchema = z.looseObject({
  kind: z.enum(['RoleBinding', 'ClusterRoleBinding']),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  roleRef: z.looseObject({ kind: z.enum(['Role', 'ClusterRole']), name: z.string() }),
  subjects: z.array(z.looseObject({ kind: z.string(), name: z.string(), namespace: z.string().optional() })).nullish(),
});

interface Grant {
  /** undefined: cluster-wide (ClusterRoleBinding). */
  namespace: string | undefined;
  rule: PolicyRule;
}

interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string | undefined;
  name: string | undefined;
}

/** What the ServiceAccount may do, from the Roles and bindings of an RBAC manifest. */
function grantsFor(rbacYaml: string, account: { namespace: string; name: string }): Grant[] {
  const docs = loadAll(rbacYaml).filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null);
  const roles = docs.flatMap((d) => {
    const parsed = RoleSchema.safeParse(d);
    return parsed.success ? [parsed.data] : [];
  });
  const grants: Grant[] = [];
  for (const doc of docs) {
    if (doc.kind !== 'RoleBinding' && doc.kind !== 'ClusterRoleBinding') continue;
    const binding = BindingSchema.parse(doc);
    const bindingNs = binding.kind === 'RoleBinding' ? (binding.metadata.namespace ?? 'default') : undefined;
    const bound = (binding.subjects ?? []).some(
      (s) => s.kind === 'ServiceAccount' && s.name === account.name && (s.namespace ?? bindingNs) === account.namespace,
    );
    if (!bound) continue;
    const role = roles.find(
      (r) =>
        r.kind === binding.roleRef.kind &&
        r.metadata.name === binding.roleRef.name &&
        (r.kind === 'ClusterRole' || (r.metadata.namespace ?? 'default') === bindingNs),
    );
    for (const rule of role?.rules ?? []) grants.push({ namespace: bindingNs, rule });
  }
  return grants;
}

function allows(grants: readonly Grant[], a: RequestAttributes): boolean {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return grants.some(
    ({ namespace, rule }) =>
      (namespace === undefined || namespace === a.namespace) &&
      (rule.apiGroups.includes('*') || rule.apiGroups.includes(a.group)) &&
      (rule.resources.includes('*') || rule.resources.includes(resource)) &&
      (rule.verbs.includes('*') || rule.verbs.includes(a.verb)) &&
      (!rule.resourceNames?.length || (a.name !== undefined && rule.resourceNames.includes(a.name))),
  );
}

// ------------------------------------------------------------------------------------ API responses

interface ApiReply {
  status: number;
  body: unknown;
}

function statusObject(code: number, reason: string, message: string, details?: Record<string, unknown>): ApiReply {
  return {
    status: code,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code },
  };
}

function forbidden(user: string, a: RequestAttributes): ApiReply {
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return statusObject(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`,
    {
      ...(a.name ? { name: a.name } : {}),
      ...(a.group ? { group: a.group } : {}),
      kind: a.resource,
    },
  );
}

function notFound(a: RequestAttributes): ApiReply {
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  return statusObject(404, 'NotFound', a.name ? `${qualified} "${a.name}" not found` : 'the server could not find the requested resource', {
    ...(a.name ? { name: a.name } : {}),
    ...(a.group ? { group: a.group } : {}),
    kind: a.resource,
  });
}

const UNAUTHORIZED = statusObject(401, 'Unauthorized', 'Unauthorized');

/** kube-apiserver's answers to a request it throttles (max-in-flight) or fails. */
function burstReply(kind: Exclude<SimFaultKind, 'timeout'>): ApiReply {
  return kind === 'throttle'
    ? statusObject(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', {
        causes: [{ reason: 'TooManyRequests' }],
        retryAfterSeconds: 1,
      })
    : statusObject(500, 'InternalError', 'Internal error occurred: the simulated API server failed this request');
}

/** The RequestInfo kube-apiserver derives from a path (k8s.io/apiserver/pkg/endpoints/request). */
function requestAttributes(method: string, path: string, query: URLSearchParams): RequestAttributes | undefined {
  const parts = path.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', name, subresource = ''] = rest;
  let verb: string;
  if (method === 'GET' || method === 'HEAD') verb = name === undefined ? (query.get('watch') === 'true' ? 'watch' : 'list') : 'get';
  else if (method === 'POST') verb = 'create';
  else if (method === 'PUT') verb = 'update';
  else if (method === 'PATCH') verb = 'patch';
  else if (method === 'DELETE') verb = name === undefined ? 'deletecollection' : 'delete';
  else verb = method.toLowerCase();
  return { verb, group, resource, subresource, namespace, name };
}

const DISCOVERY: Record<string, unknown> = {
  '/api': {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
  },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: NETWORKING_GROUP,
        versions: [{ groupVersion: `${NETWORKING_GROUP}/v1`, version: 'v1' }],
        preferredVersion: { groupVersion: `${NETWORKING_GROUP}/v1`, version: 'v1' },
      },
    ],
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      {
        name: 'configmaps',
        singularName: 'configmap',
        namespaced: true,
        kind: 'ConfigMap',
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        shortNames: ['cm'],
      },
      {
        name: 'pods',
        singularName: 'pod',
        namespaced: true,
        kind: 'Pod',
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        shortNames: ['po'],
      },
      { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      {
        name: 'pods/proxy',
        singularName: '',
        namespaced: true,
        kind: 'PodProxyOptions',
        verbs: ['create', 'delete', 'get', 'patch', 'update'],
      },
    ],
  },
  [`/apis/${NETWORKING_GROUP}/v1`]: {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${NETWORKING_GROUP}/v1`,
    resources: [
      {
        name: 'workloadentries',
        singularName: 'workloadentry',
        namespaced: true,
        kind: 'WorkloadEntry',
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        shortNames: ['we'],
      },
      {
        name: 'workloadgroups',
        singularName: 'workloadgroup',
        namespaced: true,
        kind: 'WorkloadGroup',
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        shortNames: ['wg'],
      },
    ],
  },
  '/version': { major: '1', minor: '35', gitVersion: 'v1.35.0', platform: 'linux/amd64' },
};

// ------------------------------------------------------------------------------------------ objects

interface KubeObject {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function asObjects(items: readonly unknown[] | undefined): KubeObject[] {
  return (items ?? []).filter((i): i is KubeObject => typeof i === 'object' && i !== null);
}

function objectKey(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** Equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`), the subset the audit and kubectl use. */
function labelSelectorMatcher(selector: string | null): ((o: KubeObject) => boolean) | string {
  if (!selector) return () => true;
  const terms: Array<(labels: Record<string, string>) => boolean> = [];
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    const m = /^(!?)([A-Za-z0-9./_-]+)(?:\s*(==|=|!=)\s*([A-Za-z0-9._-]*))?$/.exec(term);
    if (!m) return `unable to parse requirement: ${JSON.stringify(term)}`;
    const [, not, key, op, value] = m as unknown as [string, string, string, string | undefined, string | undefined];
    if (op === undefined) terms.push(not ? (l) => !(key in l) : (l) => key in l);
    else if (not) return `unable to parse requirement: ${JSON.stringify(term)}`;
    else if (op === '!=') terms.push((l) => l[key] !== value);
    else terms.push((l) => l[key] === value);
  }
  return (o) => terms.every((t) => t(o.metadata?.labels ?? {}));
}

const ContinueTokenSchema = z.object({ v: z.literal('meta.k8s.io/v1'), rv: z.number().int(), start: z.string() });

// ------------------------------------------------------------------------------------------- server

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

  const collections: Record<string, { group: string; kind: string; items: KubeObject[] }> = {
    workloadentries: { group: NETWORKING_GROUP, kind: 'WorkloadEntry', items: asObjects(cluster.workloadEntries?.items) },
    workloadgroups: { group: NETWORKING_GROUP, kind: 'WorkloadGroup', items: asObjects(cluster.workloadGroups?.items) },
    pods: { group: '', kind: 'Pod', items: asObjects(cluster.istiodPods?.items) },
    configmaps: { group: '', kind: 'ConfigMap', items: asObjects(Object.values(cluster.rootCa)) },
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

  const list = (a: RequestAttributes, query: URLSearchParams): ApiReply => {
    const collection = collections[a.resource]!;
    const matcher = labelSelectorMatcher(query.get('labelSelector'));
    if (typeof matcher === 'string') return statusObject(400, 'BadRequest', matcher);
    if (query.get('fieldSelector')) return statusObject(400, 'BadRequest', 'field selectors are not supported here');
    let items = collection.items.filter((o) => (a.namespace === undefined || o.metadata?.namespace === a.namespace) && matcher(o));
    const limit = Number(query.get('limit') ?? '0');
    if (!Number.isInteger(limit) || limit < 0)
      return statusObject(400, 'BadRequest', `limit must be a non-negative integer, got ${query.get('limit')}`);
    const continueToken = query.get('continue');
    if (continueToken) {
      let parsed: z.infer<typeof ContinueTokenSchema>;
      try {
        parsed = ContinueTokenSchema.parse(JSON.parse(Buffer.from(continueToken, 'base64url').toString('utf8')));
      } catch {
        return statusObject(
          400,
          'BadRequest',
          'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
        );
      }
      items = items.filter((o) => objectKey(o) > parsed.start);
    }
    const page = limit > 0 ? items.slice(0, limit) : items;
    const remaining = items.length - page.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(listResourceVersion) };
    if (remaining > 0) {
      const start = objectKey(page[page.length - 1]!);
      metadata.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: listResourceVersion, start })).toString('base64url');
      metadata.remainingItemCount = remaining;
    }
    const core = collection.group === '';
    return {
      status: 200,
      body: {
        // Core Lists carry kind/apiVersion once at the top; custom resource Lists also on every item.
        kind: `${collection.kind}List`,
        apiVersion: core ? 'v1' : `${collection.group}/${ISTIO_VERSION}`,
        metadata,
        items: page.map((o) =>
          core ? withoutTypeMeta(o) : { apiVersion: `${collection.group}/${ISTIO_VERSION}`, kind: collection.kind, ...o },
        ),
      },
    };
  };

  const get = (a: RequestAttributes): ApiReply => {
    const collection = collections[a.resource]!;
    const found = collection.items.find((o) => o.metadata?.name === a.name && o.metadata?.namespace === a.namespace);
    if (!found) return notFound(a);
    return {
      status: 200,
      body: { apiVersion: collection.group ? `${collection.group}/${ISTIO_VERSION}` : 'v1', kind: collection.kind, ...found },
    };
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
    if (attrs.verb === 'list') return { reply: list(attrs, url.searchParams), attrs };
    if (attrs.verb === 'get') return { reply: get(attrs), attrs };
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

  const forwardPort = (ws: WebSocket, pod: string, port: number): void => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    // kubelet opens each channel with the port number, two bytes little-endian.
    ws.send(Buffer.concat([Buffer.from([0]), portBytes]));
    ws.send(Buffer.concat([Buffer.from([1]), portBytes]));
    if (port !== SYNCZ_PORT || faults.replicaDown?.includes(pod)) {
      const message =
        `an error occurred forwarding ${port} -> ${port}: error forwarding port ${port} to pod ${pod}, uid : ` +
        `failed to execute portforward in network namespace "/var/run/netns/cni-${pod}": failed to connect to localhost:${port} inside namespace "${pod}", ` +
        `IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `;
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(message)]), () => ws.close(1000));
      return;
    }
    let received = Buffer.alloc(0);
    let answered = false;
    ws.on('message', (data: RawData) => {
      const frame = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
      if (answered || frame.length < 1 || frame[0] !== 0) return;
      received = Buffer.concat([received, frame.subarray(1)]);
      if (received.length > MAX_FORWARDED_REQUEST_BYTES) return ws.close(1009);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      answered = true;
      const [method, target] = received.subarray(0, end).toString('latin1').split('\r\n')[0]!.split(' ');
      void answerIstiod(ws, pod, method ?? '', target ?? '');
    });
  };

  const answerIstiod = async (ws: WebSocket, pod: string, method: string, target: string): Promise<void> => {
    const send = (bytes: Buffer): void => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([0]), bytes]));
    };
    const date = clock().toUTCString();
    const path = target.split('?')[0];
    if (method !== 'GET' || path !== '/debug/syncz') {
      const body = '404 page not found\n';
      send(
        Buffer.from(
          `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: ${date}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ),
      );
      ws.close(1000);
      return;
    }
    await delay(`syncz/${pod}`);
    if (closing || ws.readyState !== ws.OPEN) return;
    const burst = bursts.take(`syncz/${pod}`, pod);
    // No answer: the forwarded connection stays open until the client gives up.
    if (burst === 'timeout') return;
    if (burst !== undefined) {
      const [code, text] = burst === 'throttle' ? [503, 'Service Unavailable'] : [500, 'Internal Server Error'];
      const body = `${text}\n`;
      send(
        Buffer.from(
          `HTTP/1.1 ${code} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nDate: ${date}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ),
      );
      ws.close(1000);
      return;
    }
    const body = faults.garbledSyncz?.includes(pod)
      ? Buffer.from('<html><body>upstream connect error</body></html>')
      : Buffer.from(JSON.stringify(synczOf(pod)));
    const head = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: ${date}\r\n`;
    if (faults.truncatedSyncz?.includes(pod)) {
      send(
        Buffer.concat([
          Buffer.from(`${head}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
          body.subarray(0, Math.floor(body.length / 2)),
        ]),
      );
    } else if (body.length > CHUNKED_ABOVE_BYTES) {
      // Go's net/http switches to chunked encoding when a handler writes more than its buffer before returning.
      send(Buffer.from(`${head}Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n`));
      for (let offset = 0; offset < body.length; offset += 16 * 1024) {
        const chunk = body.subarray(offset, offset + 16 * 1024);
        send(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
      }
      send(Buffer.from('0\r\n\r\n'));
    } else {
      send(Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
    }
    ws.close(1000);
  };

  const synczOf = (pod: string): unknown[] => {
    const own = [...(cluster.syncz[pod] ?? [])];
    for (const moved of faults.movedProxies ?? []) {
      if (moved.alsoOn !== pod) continue;
      const entry = Object.entries(cluster.syncz)
        .filter(([replica]) => replica !== pod)
        .flatMap(([, entries]) => entries)
        .find((e) => (e as { proxy?: unknown } | null)?.proxy === moved.proxy);
      if (entry !== undefined) own.push(entry);
    }
    return own;
  };

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

function withoutTypeMeta(o: KubeObject): KubeObject {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = o;
  return rest;
}
