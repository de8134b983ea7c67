import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import {
  CoreV1Api,
  CustomObjectsApi,
  Observable,
  PortForward,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
// The handler is not re-exported by the package index; it is the one PortForward uses by default, given
// here a socket factory so the WebSocket handshake has a timeout and the socket can be torn down.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import WebSocket from 'ws';
import { z } from 'zod';
import {
  ConfigMapSchema,
  KubeListSchema,
  SynczSchema,
  type ClusterEvidence,
  type ConfigMap,
  type KubeList,
} from '../core/evidence-bundle.ts';
import { rootCaConfigMapNames } from '../core/istiod-settings.ts';
import type { MeshReader } from '../ports/mesh-reader.ts';

/** The parts of the cluster evidence, named as in the bundle's cluster/ directory. */
export const MESH_PARTS = ['workloadentries', 'workloadgroups', 'istiod-pods', 'syncz', 'root-ca'] as const;
export type MeshPart = (typeof MESH_PARTS)[number];

export const MESH_READ_PROBLEM_KINDS = [
  'unauthorized',
  'forbidden',
  'not-found',
  'timeout',
  'network',
  'http-error',
  'port-forward-refused',
  'invalid-response',
  'too-large',
  'too-many-pages',
] as const;

/** One thing the reader could not read; the part (or the replica's syncz) is left out of the evidence. */
export const MeshReadProblemSchema = z.object({
  part: z.enum(MESH_PARTS),
  /** The istiod pod for `syncz`, the namespace for `root-ca`. */
  target: z.string().optional(),
  /** What was asked, e.g. `GET /apis/networking.istio.io/v1/workloadentries` or `portforward istio-system/istiod-x:15014 GET /debug/syncz`. */
  call: z.string(),
  kind: z.enum(MESH_READ_PROBLEM_KINDS),
  /** HTTP status of the failed call, when there was one. */
  status: z.number().int().optional(),
  message: z.string(),
});
export type MeshReadProblem = z.infer<typeof MeshReadProblemSchema>;

export interface MeshReadResult {
  evidence: ClusterEvidence;
  problems: MeshReadProblem[];
  /** Every Kubernetes call made, in order of issue (list pages, gets, port-forwards). */
  calls: string[];
}

export interface KubeMeshReaderOptions {
  kubeConfig: KubeConfig;
  /** Where istiod runs; default istio-system. */
  istioNamespace?: string;
  /** Selects the istiod pods of every revision; default app=istiod. */
  istiodLabelSelector?: string;
  /** Items per list page; default 500. */
  pageSize?: number;
  /** Stop a list after this many pages (the part is then left out); default 1000. */
  maxPages?: number;
  /** Per API call; default 15 s. */
  requestTimeoutMs?: number;
  /** Per replica, for the whole port-forward and /debug/syncz exchange; default 30 s. */
  synczTimeoutMs?: number;
  /** istiod's HTTP monitoring port that serves /debug/syncz; default 15014. */
  synczPort?: number;
  /** Largest syncz answer accepted; default 256 MiB. */
  maxSynczBytes?: number;
  /** Calls in flight at once for port-forwards and ConfigMap reads; default 4. */
  concurrency?: number;
  /**
   * Keep only the WorkloadEntries and WorkloadGroups of the namespaces asked for (none when none is
   * asked for). Default false: the Lists are stored as the API returned them, cluster-wide.
   */
  onlyRequestedNamespaces?: boolean;
  /**
   * The root-of-trust ConfigMap to read in each VM namespace. Default: the name the istiod pods are run
   * with (PILOT_CA_CERT_CONFIGMAP, Istio 1.27+), else istio-ca-root-cert.
   */
  rootCaConfigMap?: string;
}

const ISTIO_GROUP = 'networking.istio.io';
const ISTIO_VERSION = 'v1';
/** A ConfigMap name: a DNS subdomain (RFC 1123), as the API server requires. */
const CONFIGMAP_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A failure that becomes a MeshReadProblem; anything else thrown is a bug. */
class ReadFailure extends Error {
  readonly kind: MeshReadProblem['kind'];
  readonly status: number | undefined;

  constructor(kind: MeshReadProblem['kind'], message: string, status?: number) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

const StatusObjectSchema = z.looseObject({ kind: z.literal('Status'), message: z.string().optional(), reason: z.string().optional() });
const ListPageSchema = KubeListSchema.extend({
  metadata: z
    .looseObject({ continue: z.string().optional(), remainingItemCount: z.number().optional(), resourceVersion: z.string().optional() })
    .optional(),
});
// Per item, so that one malformed pod (reported by the mesh view) does not hide the others' syncz.
const PodNameSchema = z.looseObject({ metadata: z.looseObject({ name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/) }) });

/**
 * Reads what the mesh believes through @kubernetes/client-node: WorkloadEntries and WorkloadGroups
 * (cluster-wide, paginated), the istiod pods of every revision, the root-of-trust ConfigMap of each VM
 * namespace (istio-ca-root-cert, or the name istiod's PILOT_CA_CERT_CONFIGMAP gives), and /debug/syncz of every istiod pod through pods/portforward (never pods/proxy, where
 * istiod answers 401). Responses are kept as the API returned them. A call that fails for an expected
 * reason (403, timeout, refused port-forward, a body that is not JSON) leaves its part out and is
 * recorded as a problem; it never fails the whole read.
 */
export class KubeMeshReader implements MeshReader {
  readonly #kc: KubeConfig;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #opts: Required<Omit<KubeMeshReaderOptions, 'kubeConfig' | 'rootCaConfigMap'>>;
  readonly #rootCaConfigMap: string | undefined;

  constructor(options: KubeMeshReaderOptions) {
    this.#kc = options.kubeConfig;
    if (!this.#kc.getCurrentCluster()) throw new Error('the kubeconfig has no current cluster: cannot read the mesh');
    this.#core = this.#kc.makeApiClient(CoreV1Api);
    this.#custom = this.#kc.makeApiClient(CustomObjectsApi);
    this.#opts = {
      istioNamespace: options.istioNamespace ?? 'istio-system',
      istiodLabelSelector: options.istiodLabelSelector ?? 'app=istiod',
      pageSize: positive('pageSize', options.pageSize ?? 500),
      maxPages: positive('maxPages', options.maxPages ?? 1000),
      requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs ?? 15_000),
      synczTimeoutMs: positive('synczTimeoutMs', options.synczTimeoutMs ?? 30_000),
      synczPort: positive('synczPort', options.synczPort ?? 15014),
      maxSynczBytes: positive('maxSynczBytes', options.maxSynczBytes ?? 256 * 1024 * 1024),
      concurrency: positive('concurrency', options.concurrency ?? 4),
      onlyRequestedNamespaces: options.onlyRequestedNamespaces ?? false,
    };
    const name = options.rootCaConfigMap;
    if (name !== undefined && (name.length > 253 || !CONFIGMAP_NAME.test(name)))
      throw new Error(`rootCaConfigMap must be a ConfigMap name, got ${JSON.stringify(name)}`);
    this.#rootCaConfigMap = name;
  }

  /** The cluster evidence as the MeshReader port asks, with what could not be read kept as `problems`. */
  async readCluster(namespaces: string[]): Promise<ClusterEvidence> {
    const { evidence, problems } = await this.readClusterWithProblems(namespaces);
    return { ...evidence, problems };
  }

  /** Reads the cluster evidence, with a record of every part that could not be read and of every call made. */
  async readClusterWithProblems(namespaces: string[]): Promise<MeshReadResult> {
    const problems: MeshReadProblem[] = [];
    const calls: string[] = [];
    const scope = [...new Set(namespaces)].sort();
    const attempt = async <T>(part: MeshPart, target: string | undefined, call: string, run: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof ReadFailure)) throw error;
        problems.push({
          part,
          ...(target === undefined ? {} : { target }),
          call,
          kind: error.kind,
          ...(error.status === undefined ? {} : { status: error.status }),
          message: error.message,
        });
        return undefined;
      }
    };

    const weCall = `GET /apis/${ISTIO_GROUP}/${ISTIO_VERSION}/workloadentries`;
    const wgCall = `GET /apis/${ISTIO_GROUP}/${ISTIO_VERSION}/workloadgroups`;
    const podCall = `GET /api/v1/namespaces/${this.#opts.istioNamespace}/pods?labelSelector=${encodeURIComponent(this.#opts.istiodLabelSelector)}`;
    const [workloadEntries, workloadGroups, istiodPods] = await Promise.all([
      attempt('workloadentries', undefined, weCall, () =>
        this.#listAll(weCall, calls, (page) =>
          this.#custom.listClusterCustomObject(
            { group: ISTIO_GROUP, version: ISTIO_VERSION, plural: 'workloadentries', limit: this.#opts.pageSize, ...page.params },
            page.options,
          ),
        ),
      ),
      attempt('workloadgroups', undefined, wgCall, () =>
        this.#listAll(wgCall, calls, (page) =>
          this.#custom.listClusterCustomObject(
            { group: ISTIO_GROUP, version: ISTIO_VERSION, plural: 'workloadgroups', limit: this.#opts.pageSize, ...page.params },
            page.options,
          ),
        ),
      ),
      attempt('istiod-pods', undefined, podCall, () =>
        this.#listAll(podCall, calls, (page) =>
          this.#core.listNamespacedPod(
            {
              namespace: this.#opts.istioNamespace,
              labelSelector: this.#opts.istiodLabelSelector,
              limit: this.#opts.pageSize,
              ...page.params,
            },
            page.options,
          ),
        ),
      ),
    ]);

    const podNames = (istiodPods?.items ?? []).flatMap((item) => {
      const parsed = PodNameSchema.safeParse(item);
      return parsed.success ? [parsed.data.metadata.name] : [];
    });
    const syncz: Record<string, unknown[]> = {};
    const rootCa: Record<string, ConfigMap> = {};
    // The name istiod publishes the root under: the one set here, else the one the istiod pods are run with.
    const rootCaNames = this.#rootCaConfigMap ? [this.#rootCaConfigMap] : rootCaConfigMapNames(istiodPods?.items);
    await runBounded(
      [
        ...podNames.map((pod) => async () => {
          const call = `portforward ${this.#opts.istioNamespace}/${pod}:${this.#opts.synczPort} GET /debug/syncz`;
          calls.push(call);
          const answer = await attempt('syncz', pod, call, () => this.#fetchSyncz(pod));
          if (answer) syncz[pod] = answer;
        }),
        ...scope.map((namespace) => async () => {
          const configMap = await this.#readRootCa(namespace, rootCaNames, calls, attempt);
          if (configMap) rootCa[namespace] = configMap;
        }),
      ],
      this.#opts.concurrency,
    );

    const keep = (list: KubeList | undefined): KubeList | undefined => {
      if (!list || !this.#opts.onlyRequestedNamespaces) return list;
      return {
        ...list,
        items: list.items.filter((item) =>
          scope.includes((item as { metadata?: { namespace?: unknown } } | null)?.metadata?.namespace as string),
        ),
      };
    };
    const evidence: ClusterEvidence = {
      ...optional('workloadEntries', keep(workloadEntries)),
      ...optional('workloadGroups', keep(workloadGroups)),
      ...optional('istiodPods', istiodPods),
      syncz: Object.fromEntries(Object.entries(syncz).sort(([a], [b]) => (a < b ? -1 : 1))),
      rootCa: Object.fromEntries(Object.entries(rootCa).sort(([a], [b]) => (a < b ? -1 : 1))),
    };
    return { evidence, problems, calls };
  }

  /**
   * Reads the namespace's root-of-trust ConfigMap, trying each candidate name in order (revisions may name
   * it differently): the first that exists is kept; a failure other than 404 stops and is the problem.
   */
  async #readRootCa(
    namespace: string,
    names: readonly string[],
    calls: string[],
    attempt: <T>(part: MeshPart, target: string | undefined, call: string, run: () => Promise<T>) => Promise<T | undefined>,
  ): Promise<ConfigMap | undefined> {
    for (const [index, name] of names.entries()) {
      const call = `GET /api/v1/namespaces/${namespace}/configmaps/${name}`;
      calls.push(call);
      const last = index === names.length - 1;
      let missing = false;
      const configMap = await attempt('root-ca', namespace, call, async () => {
        try {
          const json = await this.#call(call, (options) => this.#core.readNamespacedConfigMap({ name, namespace }, options));
          const parsed = ConfigMapSchema.safeParse(json);
          if (!parsed.success) throw new ReadFailure('invalid-response', `${call} did not return a ConfigMap`);
          return parsed.data;
        } catch (error) {
          // Not there under this name: the next candidate may be; only the last one's 404 is a problem.
          if (error instanceof ReadFailure && error.kind === 'not-found' && !last) {
            missing = true;
            return undefined;
          }
          throw error;
        }
      });
      if (configMap || !missing) return configMap;
    }
    return undefined;
  }

  /** Follows `continue` until the list is complete; returns one List with every page's items. */
  async #listAll(
    call: string,
    calls: string[],
    fetchPage: (page: { params: { _continue?: string }; options: ConfigurationOptions }) => Promise<unknown>,
  ): Promise<KubeList> {
    // A 410 means the continue token outlived the snapshot; Kubernetes says to start the list over.
    for (let restart = 0; restart < 2; restart++) {
      let merged: KubeList | undefined;
      let token: string | undefined;
      let pages = 0;
      try {
        do {
          if (++pages > this.#opts.maxPages)
            throw new ReadFailure('too-many-pages', `${call} still had more after ${this.#opts.maxPages} pages of ${this.#opts.pageSize}`);
          const pageCall = `${call}${call.includes('?') ? '&' : '?'}limit=${this.#opts.pageSize}${token ? '&continue=…' : ''}`;
          calls.push(pageCall);
          const json = await this.#call(pageCall, (options) => fetchPage({ params: token ? { _continue: token } : {}, options }));
          const page = ListPageSchema.safeParse(json);
          if (!page.success)
            throw new ReadFailure(
              'invalid-response',
              `${call} did not return a Kubernetes List: ${page.error.issues[0]?.message ?? 'invalid'}`,
            );
          const next = page.data.metadata?.continue || undefined;
          if (next !== undefined && next === token)
            throw new ReadFailure('invalid-response', `${call} returned the same continue token twice`);
          token = next;
          if (!merged) {
            const { continue: _c, remainingItemCount: _r, ...metadata } = page.data.metadata ?? {};
            merged = { ...page.data, metadata, items: [...page.data.items] };
          } else merged.items.push(...page.data.items);
        } while (token !== undefined);
        return merged!;
      } catch (error) {
        if (!(error instanceof ReadFailure && error.status === 410 && restart === 0)) throw error;
      }
    }
    throw new ReadFailure('http-error', `${call}: the list expired twice while paging`, 410);
  }

  /** One API call through the generated client, returning the response body exactly as sent. */
  async #call(call: string, invoke: (options: ConfigurationOptions) => Promise<unknown>): Promise<unknown> {
    const seen: { status?: number; text?: string } = {};
    const timeoutMs = this.#opts.requestTimeoutMs;
    // The object-parameter API takes the observable form of middleware for per-call options.
    const capture: ObservableMiddleware = {
      pre: (context) => {
        context.setSignal(AbortSignal.timeout(timeoutMs));
        return new Observable(Promise.resolve(context));
      },
      post: (context) =>
        new Observable(
          (async () => {
            const text = await context.body.text();
            seen.status = context.httpStatusCode;
            seen.text = text;
            // The generated client deserializes into model classes (Dates, dropped unknown fields); keep the raw text instead.
            context.body = { text: async () => text, binary: async () => Buffer.from(text), stream: () => null };
            return context;
          })(),
        ),
    };
    try {
      await invoke({ middleware: [capture], middlewareMergeStrategy: 'append' });
    } catch (error) {
      throw classifyApiError(call, error, seen, timeoutMs);
    }
    try {
      return JSON.parse(seen.text ?? '');
    } catch {
      throw new ReadFailure('invalid-response', `${call} answered ${seen.status ?? '?'} with a body that is not JSON`, seen.status);
    }
  }

  /** istiod's /debug/syncz of one pod: HTTP/1.1 over a pods/portforward WebSocket to the monitoring port. */
  async #fetchSyncz(pod: string): Promise<unknown[]> {
    const port = this.#opts.synczPort;
    const where = `${this.#opts.istioNamespace}/${pod}:${port}`;
    const timeoutMs = this.#opts.synczTimeoutMs;
    const sockets: WebSocket[] = [];
    const output = new PassThrough();
    const errors = new PassThrough();
    const input = new PassThrough();
    let errorText = '';
    errors.on('data', (chunk: Buffer) => {
      if (errorText.length < 4096) errorText += chunk.toString('utf8');
    });
    const handler = new WebSocketHandler(this.#kc, (uri: string, protocols: string[], opts: WebSocket.ClientOptions) => {
      const socket = new WebSocket(uri, protocols, { ...opts, handshakeTimeout: timeoutMs });
      sockets.push(socket);
      return socket;
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ReadFailure('timeout', `${where}: no complete /debug/syncz answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const exchange = async (): Promise<unknown[]> => {
      let ws: WebSocket;
      try {
        ws = (await new PortForward(this.#kc, true, handler).portForward(
          this.#opts.istioNamespace,
          pod,
          [port],
          output,
          errors,
          input,
        )) as unknown as WebSocket;
      } catch (error) {
        throw classifyUpgradeError(where, error);
      }
      ws.on('close', () => output.end());
      const body = await httpGetOverStream(output, input, port, '/debug/syncz', this.#opts.maxSynczBytes).catch((error: unknown) => {
        if (error instanceof ReadFailure) throw error;
        // The kubelet reports a refused connection to the pod's port on the error channel and closes.
        if (errorText) throw new ReadFailure('port-forward-refused', `${where}: ${errorText.trim()}`);
        throw new ReadFailure('network', `${where}: ${(error as Error).message}`);
      });
      if (errorText) throw new ReadFailure('port-forward-refused', `${where}: ${errorText.trim()}`);
      if (body.status !== 200) throw new ReadFailure('http-error', `${where}: /debug/syncz answered HTTP ${body.status}`, body.status);
      let json: unknown;
      try {
        json = JSON.parse(body.text);
      } catch {
        throw new ReadFailure('invalid-response', `${where}: /debug/syncz answered a body that is not JSON (${body.text.length} bytes)`);
      }
      const parsed = SynczSchema.safeParse(json);
      if (!parsed.success)
        throw new ReadFailure('invalid-response', `${where}: /debug/syncz answered JSON that is not an array of proxy statuses`);
      return parsed.data;
    };
    const work = exchange();
    // Past the deadline the exchange may still fail while being torn down; that outcome is no longer wanted.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
      for (const socket of sockets) socket.terminate();
      input.destroy();
      output.destroy();
      errors.destroy();
    }
  }
}

/** Sends one HTTP/1.1 GET into a byte stream pair and reads the answer with Node's own HTTP parser. */
async function httpGetOverStream(
  fromPod: PassThrough,
  toPod: PassThrough,
  port: number,
  path: string,
  maxBytes: number,
): Promise<{ status: number; text: string }> {
  const tunnel = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      toPod.write(chunk, callback);
    },
    final(callback) {
      callback();
    },
  });
  fromPod.on('data', (chunk: Buffer) => tunnel.push(chunk));
  fromPod.on('end', () => tunnel.push(null));
  fromPod.on('close', () => tunnel.push(null));
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      createConnection: () => tunnel as unknown as Socket,
      method: 'GET',
      path,
      headers: { Host: `localhost:${port}`, Accept: 'application/json', Connection: 'close' },
    });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy();
          reject(new ReadFailure('too-large', `the answer to ${path} exceeds ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', () => reject(new ReadFailure('invalid-response', `the answer to ${path} was cut off after ${size} bytes`)));
      res.on('end', () => {
        if (!res.complete) reject(new ReadFailure('invalid-response', `the answer to ${path} was cut off after ${size} bytes`));
        else resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end();
  });
}

function classifyApiError(call: string, error: unknown, seen: { status?: number; text?: string }, timeoutMs: number): ReadFailure {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new ReadFailure('timeout', `${call}: no answer within ${timeoutMs} ms`);
  const status = seen.status ?? (error as { code?: unknown } | null)?.code;
  if (typeof status === 'number' && status >= 300) {
    let detail: string;
    try {
      detail = StatusObjectSchema.parse(JSON.parse(seen.text ?? '')).message ?? '';
    } catch {
      detail = (seen.text ?? '').slice(0, 300);
    }
    const kind = status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not-found' : 'http-error';
    return new ReadFailure(kind, `${call} answered ${status}${detail ? `: ${detail}` : ''}`, status);
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const message = [
    error instanceof Error ? error.message : String(error),
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '',
  ]
    .filter(Boolean)
    .join(': ');
  return new ReadFailure('network', `${call} failed: ${message}`);
}

function classifyUpgradeError(where: string, error: unknown): ReadFailure {
  // The WebSocket client rejects with an ErrorEvent whose message carries the HTTP status of a refused upgrade.
  const message = String(
    (error as { message?: unknown } | null)?.message ?? (error as { error?: { message?: unknown } } | null)?.error?.message ?? error,
  );
  const status = Number(/Unexpected server response: (\d{3})/.exec(message)?.[1]);
  if (status === 401) return new ReadFailure('unauthorized', `${where}: the port-forward was refused with 401`, status);
  if (status === 403)
    return new ReadFailure(
      'forbidden',
      `${where}: the port-forward was refused with 403 (RBAC must allow get and create on pods/portforward in this namespace)`,
      status,
    );
  if (status === 404) return new ReadFailure('not-found', `${where}: the pod is gone (404)`, status);
  if (Number.isInteger(status))
    return new ReadFailure('port-forward-refused', `${where}: the port-forward upgrade was refused with ${status}`, status);
  if (/timed out|timeout/i.test(message)) return new ReadFailure('timeout', `${where}: the port-forward handshake timed out`);
  return new ReadFailure('network', `${where}: the port-forward failed: ${message}`);
}

/** Runs tasks with at most `limit` in flight. */
async function runBounded(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`KubeMeshReader option ${name} must be a positive integer, got ${value}`);
  return value;
}
