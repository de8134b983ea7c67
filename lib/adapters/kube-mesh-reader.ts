import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { ConfigMapSchema, type ClusterEvidence, type ConfigMap, type KubeList } from '../core/evidence-bundle.ts';
import { rootCaConfigMapNames } from '../core/istiod-settings.ts';
import type { MeshReader } from '../ports/mesh-reader.ts';
import { fetchIstiodSyncz } from './istiod-syncz-forward.ts';
import { ISTIO_GROUP, ISTIO_VERSION, KubeApiCalls } from './kube-api-calls.ts';
import { ReadFailure, type Attempt, type MeshReadProblem } from './kube-mesh-read-problems.ts';
import { readServiceParts } from './kube-service-reads.ts';
import { forEachBounded } from '../shared/bounded-concurrency.ts';
import { isConfigMapName } from '../shared/identifiers.ts';

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
  /** Selects the istiod pods and Services of every revision; default app=istiod. */
  istiodLabelSelector?: string;
  /** Selects the east-west gateway's Service in the istio namespace; default istio=eastwestgateway. */
  eastWestGatewayLabelSelector?: string;
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

// Per item, so that one malformed pod (reported by the mesh view) does not hide the others' syncz.
const PodNameSchema = z.looseObject({ metadata: z.looseObject({ name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/) }) });

/**
 * Reads what the mesh believes through @kubernetes/client-node: WorkloadEntries and WorkloadGroups
 * (cluster-wide, paginated), the istiod pods of every revision, the root-of-trust ConfigMap of each VM
 * namespace (istio-ca-root-cert, or the name istiod's PILOT_CA_CERT_CONFIGMAP gives), /debug/syncz of every
 * istiod pod through pods/portforward (never pods/proxy, where istiod answers 401), and the Services and
 * ServiceEntries of kube-service-reads.ts. Responses are kept as the API returned them. A call that fails for an expected
 * reason (403, timeout, refused port-forward, a body that is not JSON) leaves its part out and is
 * recorded as a problem; it never fails the whole read.
 */
export class KubeMeshReader implements MeshReader {
  readonly #kc: KubeConfig;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #opts: Required<Omit<KubeMeshReaderOptions, 'kubeConfig' | 'rootCaConfigMap'>>;
  readonly #rootCaConfigMap: string | undefined;
  readonly #api: KubeApiCalls;

  constructor(options: KubeMeshReaderOptions) {
    this.#kc = options.kubeConfig;
    if (!this.#kc.getCurrentCluster()) throw new Error('the kubeconfig has no current cluster: cannot read the mesh');
    this.#core = this.#kc.makeApiClient(CoreV1Api);
    this.#custom = this.#kc.makeApiClient(CustomObjectsApi);
    this.#opts = {
      istioNamespace: options.istioNamespace ?? 'istio-system',
      istiodLabelSelector: options.istiodLabelSelector ?? 'app=istiod',
      eastWestGatewayLabelSelector: options.eastWestGatewayLabelSelector ?? 'istio=eastwestgateway',
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
    if (name !== undefined && !isConfigMapName(name))
      throw new Error(`rootCaConfigMap must be a ConfigMap name, got ${JSON.stringify(name)}`);
    this.#rootCaConfigMap = name;
    this.#api = new KubeApiCalls(this.#opts);
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
    const attempt: Attempt = async (part, target, call, run) => {
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
        this.#api.listAll(weCall, calls, (page) =>
          this.#custom.listClusterCustomObject(
            { group: ISTIO_GROUP, version: ISTIO_VERSION, plural: 'workloadentries', limit: this.#opts.pageSize, ...page.params },
            page.options,
          ),
        ),
      ),
      attempt('workloadgroups', undefined, wgCall, () =>
        this.#api.listAll(wgCall, calls, (page) =>
          this.#custom.listClusterCustomObject(
            { group: ISTIO_GROUP, version: ISTIO_VERSION, plural: 'workloadgroups', limit: this.#opts.pageSize, ...page.params },
            page.options,
          ),
        ),
      ),
      attempt('istiod-pods', undefined, podCall, () =>
        this.#api.listAll(podCall, calls, (page) =>
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
    await forEachBounded(
      [
        ...podNames.map((pod) => async () => {
          const call = `portforward ${this.#opts.istioNamespace}/${pod}:${this.#opts.synczPort} GET /debug/syncz`;
          calls.push(call);
          const answer = await attempt('syncz', pod, call, () => fetchIstiodSyncz(this.#kc, this.#opts, pod));
          if (answer) syncz[pod] = answer;
        }),
        ...scope.map((namespace) => async () => {
          const configMap = await this.#readRootCa(namespace, rootCaNames, calls, attempt);
          if (configMap) rootCa[namespace] = configMap;
        }),
      ],
      this.#opts.concurrency,
      (read) => read(),
    );

    const { services, serviceEntries } = await readServiceParts({
      core: this.#core,
      custom: this.#custom,
      api: this.#api,
      calls,
      attempt,
      pageSize: this.#opts.pageSize,
      namespaces: scope,
      istioNamespace: this.#opts.istioNamespace,
      istiodLabelSelector: this.#opts.istiodLabelSelector,
      eastWestGatewayLabelSelector: this.#opts.eastWestGatewayLabelSelector,
    });

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
      ...optional('services', services),
      ...optional('serviceEntries', serviceEntries),
      syncz: Object.fromEntries(Object.entries(syncz).sort(([a], [b]) => (a < b ? -1 : 1))),
      rootCa: Object.fromEntries(Object.entries(rootCa).sort(([a], [b]) => (a < b ? -1 : 1))),
    };
    return { evidence, problems, calls };
  }

  /**
   * Reads the namespace's root-of-trust ConfigMap, trying each candidate name in order (revisions may name
   * it differently): the first that exists is kept; a failure other than 404 stops and is the problem.
   */
  async #readRootCa(namespace: string, names: readonly string[], calls: string[], attempt: Attempt): Promise<ConfigMap | undefined> {
    for (const [index, name] of names.entries()) {
      const call = `GET /api/v1/namespaces/${namespace}/configmaps/${name}`;
      calls.push(call);
      const last = index === names.length - 1;
      let missing = false;
      const configMap = await attempt('root-ca', namespace, call, async () => {
        try {
          const json = await this.#api.call(call, (options) => this.#core.readNamespacedConfigMap({ name, namespace }, options));
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
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`KubeMeshReader option ${name} must be a positive integer, got ${value}`);
  return value;
}
