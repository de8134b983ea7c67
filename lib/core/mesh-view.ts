import { z } from 'zod';
import type { ClusterEvidence, ClusterReadProblem } from './evidence-bundle.ts';
import { firstIssueText } from '../shared/zod-issues.ts';
import { readIstiodSettings, type IstiodSettings } from './istiod-settings.ts';
import { ServiceEntrySchema, ServiceSchema, type Service, type ServiceEntry } from './mesh-services.ts';
import { ObjectMetaSchema } from './object-meta.ts';

/*
 * The cluster side of the audit, read from the bundle's `cluster/` part: WorkloadEntries, WorkloadGroups,
 * istiod pods and every replica's /debug/syncz. Each object is validated on its own; a malformed one is
 * kept as an invalid object (it becomes an ERROR finding), never a reason to drop the rest.
 */

const ISTIO_NETWORKING_VERSIONS = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'];

export const WorkloadEntrySchema = z.looseObject({
  apiVersion: z.string().refine((v) => ISTIO_NETWORKING_VERSIONS.includes(v), { error: 'unknown apiVersion' }),
  kind: z.literal('WorkloadEntry').optional(),
  metadata: ObjectMetaSchema,
  spec: z.looseObject({
    address: z.string().min(1, { error: 'spec.address is empty' }),
    network: z.string().optional(),
    serviceAccount: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  status: z
    .looseObject({
      conditions: z.array(z.looseObject({ type: z.string(), status: z.string(), message: z.string().optional() })).optional(),
    })
    .optional(),
});
export type WorkloadEntry = z.infer<typeof WorkloadEntrySchema>;

export const WorkloadGroupSchema = z.looseObject({
  apiVersion: z.string().refine((v) => ISTIO_NETWORKING_VERSIONS.includes(v), { error: 'unknown apiVersion' }),
  metadata: ObjectMetaSchema,
  spec: z.looseObject({
    template: z.looseObject({ serviceAccount: z.string().optional(), network: z.string().optional() }).optional(),
    probe: z.unknown().optional(),
  }),
});
export type WorkloadGroup = z.infer<typeof WorkloadGroupSchema>;

export const IstiodPodSchema = z.looseObject({
  metadata: ObjectMetaSchema,
  spec: z
    .looseObject({ containers: z.array(z.looseObject({ name: z.string().optional(), image: z.string().optional() })).optional() })
    .optional(),
  status: z.looseObject({ phase: z.string().optional() }).optional(),
});
export type IstiodPod = z.infer<typeof IstiodPodSchema>;

/** One entry of istiod's /debug/syncz (pilot/pkg/xds/debug.go SyncStatus, Istio 1.24). */
export const SyncStatusSchema = z.looseObject({
  cluster_id: z.string().optional(),
  proxy: z.string().min(1),
  proxy_type: z.string().optional(),
  proxy_version: z.string().optional(),
  istio_version: z.string().optional(),
  // The nonce istiod last sent and the proxy last acknowledged, per type (empty or absent: never sent).
  cluster_sent: z.string().optional().catch(undefined),
  cluster_acked: z.string().optional().catch(undefined),
  listener_sent: z.string().optional().catch(undefined),
  listener_acked: z.string().optional().catch(undefined),
  route_sent: z.string().optional().catch(undefined),
  route_acked: z.string().optional().catch(undefined),
  endpoint_sent: z.string().optional().catch(undefined),
  endpoint_acked: z.string().optional().catch(undefined),
  extensionconfig_sent: z.string().optional().catch(undefined),
  extensionconfig_acked: z.string().optional().catch(undefined),
  resources: z
    .record(
      z.string(),
      z.looseObject({
        sent: z.string().optional(),
        acked: z.string().optional(),
        sentTime: z.string().optional(),
        lastError: z.string().optional(),
      }),
    )
    .optional(),
});
export type SyncStatus = z.infer<typeof SyncStatusSchema>;

export interface InvalidObject {
  kind: 'WorkloadEntry' | 'WorkloadGroup' | 'Pod' | 'SyncStatus' | 'Service' | 'ServiceEntry';
  /** `namespace/name` where the object had them, else its position. */
  ref: string;
  reason: string;
}

export interface ProxyPresence {
  replica: string;
  status: SyncStatus;
}

export interface MeshView {
  /** False when the bundle has no cluster part: every mesh control is ERROR, or SKIP when `notRead` says why. */
  available: boolean;
  /** Why the run read no cluster on purpose (the manifest's `clusterNotRead`), e.g. no cluster is configured. */
  notRead?: string;
  workloadEntries: WorkloadEntry[];
  workloadGroups: WorkloadGroup[];
  /** The Services of the VM namespaces, istiod's and the east-west gateway's (`cluster/services.json`). */
  services: Service[];
  /** The ServiceEntries of the VM namespaces (`cluster/serviceentries.json`). */
  serviceEntries: ServiceEntry[];
  istiods: Array<{
    name: string;
    namespace: string;
    phase: string | undefined;
    /** The pod's labels (`app`, `istio`, `istio.io/rev`), which a Service selects it by; empty when its pod was not listed. */
    labels: Record<string, string>;
    answered: boolean;
    version: string | undefined;
    /** What the pod is run with (its discovery container's flags and environment); undefined when its pod was not listed. */
    settings: IstiodSettings | undefined;
  }>;
  /** proxy-status name → where it is connected (more than one replica after a move). */
  proxies: Map<string, ProxyPresence[]>;
  invalid: InvalidObject[];
  /** What was missing from the cluster evidence, e.g. `cluster/workloadentries.json`. */
  missingParts: string[];
  /** The reads that failed, as the reader recorded them. */
  problems: ClusterReadProblem[];
}

/** Builds the mesh view from the bundle's cluster part (and why there is none, when that was chosen). Never throws. */
export function buildMeshView(cluster: ClusterEvidence | undefined, notRead?: string): MeshView {
  const view: MeshView = {
    available: cluster !== undefined,
    ...(cluster === undefined && notRead !== undefined ? { notRead } : {}),
    workloadEntries: [],
    workloadGroups: [],
    services: [],
    serviceEntries: [],
    istiods: [],
    proxies: new Map(),
    invalid: [],
    missingParts: [],
    problems: cluster?.problems ?? [],
  };
  if (!cluster) {
    view.missingParts.push('cluster/');
    return view;
  }
  // The API lists in namespace/name order, a hand-made bundle in any order: sort, so findings never depend on it.
  view.workloadEntries = validItems(cluster.workloadEntries?.items, WorkloadEntrySchema, 'WorkloadEntry', view).sort(byNamespacedName);
  view.workloadGroups = validItems(cluster.workloadGroups?.items, WorkloadGroupSchema, 'WorkloadGroup', view).sort(byNamespacedName);
  view.services = validItems(cluster.services?.items, ServiceSchema, 'Service', view).sort(byNamespacedName);
  view.serviceEntries = validItems(cluster.serviceEntries?.items, ServiceEntrySchema, 'ServiceEntry', view).sort(byNamespacedName);
  const pods = validItems(cluster.istiodPods?.items, IstiodPodSchema, 'Pod', view);
  if (!cluster.workloadEntries) view.missingParts.push('cluster/workloadentries.json');
  if (!cluster.workloadGroups) view.missingParts.push('cluster/workloadgroups.json');
  if (!cluster.istiodPods) view.missingParts.push('cluster/istiod-pods.json');
  if (!cluster.services) view.missingParts.push('cluster/services.json');
  if (!cluster.serviceEntries) view.missingParts.push('cluster/serviceentries.json');

  const replicaNames = new Set([...pods.map((p) => p.metadata.name), ...Object.keys(cluster.syncz)]);
  for (const name of [...replicaNames].sort()) {
    const pod = pods.find((p) => p.metadata.name === name);
    const syncz = Object.hasOwn(cluster.syncz, name) ? cluster.syncz[name] : undefined;
    view.istiods.push({
      name,
      namespace: pod?.metadata.namespace ?? 'istio-system',
      phase: pod?.status?.phase,
      labels: { ...pod?.metadata.labels },
      answered: syncz !== undefined,
      version: istiodVersion(pod),
      settings: pod ? readIstiodSettings(pod) : undefined,
    });
    if (!syncz) continue;
    syncz.forEach((item, index) => {
      const parsed = SyncStatusSchema.safeParse(item);
      if (!parsed.success) {
        view.invalid.push({ kind: 'SyncStatus', ref: `${name}[${index}]`, reason: firstIssueText(parsed.error) });
        return;
      }
      const presences = view.proxies.get(parsed.data.proxy) ?? [];
      presences.push({ replica: name, status: parsed.data });
      view.proxies.set(parsed.data.proxy, presences);
    });
  }
  return view;
}

/** istiod's version from its `discovery` container image tag (`…/pilot:1.24.6`, `…/pilot:1.24.6-distroless`). */
export function istiodVersion(pod: IstiodPod | undefined): string | undefined {
  const containers = pod?.spec?.containers ?? [];
  const image = (containers.find((c) => c.name === 'discovery') ?? containers[0])?.image;
  return /:(?<tag>\d+\.\d+\.\d+[^@]*)(?:@.*)?$/.exec(image ?? '')?.groups?.tag;
}

function byNamespacedName(
  a: { metadata: { namespace: string; name: string } },
  b: { metadata: { namespace: string; name: string } },
): number {
  const x = `${a.metadata.namespace}/${a.metadata.name}`;
  const y = `${b.metadata.namespace}/${b.metadata.name}`;
  return x < y ? -1 : x > y ? 1 : 0;
}

function validItems<T>(items: unknown[] | undefined, schema: z.ZodType<T>, kind: InvalidObject['kind'], view: MeshView): T[] {
  const valid: T[] = [];
  (items ?? []).forEach((item, index) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) valid.push(parsed.data);
    else view.invalid.push({ kind, ref: objectRef(item, index), reason: firstIssueText(parsed.error) });
  });
  return valid;
}

function objectRef(item: unknown, index: number): string {
  const meta = (item as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  if (typeof meta?.name === 'string' && typeof meta.namespace === 'string') return `${meta.namespace}/${meta.name}`;
  return `items[${index}]`;
}
