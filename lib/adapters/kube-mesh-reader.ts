import { PassThrough } from 'node:stream';
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
import { httpGetOverStream } from './http-over-stream.ts';
import { classifyApiError, classifyUpgradeError, ReadFailure, type MeshPart, type MeshReadProblem } from './kube-mesh-read-problems.ts';

export {
  MESH_PARTS,
  MESH_READ_PROBLEM_KINDS,
  MeshReadProblemSchema,
  type MeshPart,
  type MeshReadProblem,
} from './kube-mesh-read-problems.ts';

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
