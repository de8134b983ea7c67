import { z } from 'zod';
import type { Evidence } from '../result.ts';
import { parseClusterName, type ClusterNameParts } from './cluster-name.ts';
import { describeIstioConfig } from './istio-config-ref.ts';
import { noSection, readDump, typeOf, TYPE_PREFIX, type DumpShape } from './dump-root.ts';

// envoy.admin.v3.ClustersConfigDump and the entries of its `?resource=` answers.
const CLUSTERS_SECTION = `${TYPE_PREFIX}ClustersConfigDump`;
const DYNAMIC_CLUSTER = `${TYPE_PREFIX}ClustersConfigDump.DynamicCluster`;
const STATIC_CLUSTER = `${TYPE_PREFIX}ClustersConfigDump.StaticCluster`;

/** Where Envoy holds a cluster: dynamic active, dynamic warming (waiting for its endpoints), or static. */
export type ClusterState = 'active' | 'warming' | 'static';

/** One Envoy cluster with the columns istioctl's `proxy-config clusters` derives from its name. */
export interface ClusterEntry extends ClusterNameParts {
  name: string;
  /** Envoy's discovery type as istioctl prints it; STATIC when the dump leaves it out (the proto3 default). */
  type: string;
  /** The extension of a custom cluster type (`cluster_type.name`, e.g. envoy.clusters.aggregate). */
  customType: string | undefined;
  state: ClusterState;
  /** DESTINATION RULE: `<name>.<namespace>` from the cluster's Istio metadata, '' when none. */
  destinationRule: string;
  versionInfo: string | undefined;
  lastUpdated: string | undefined;
  /** The Cluster message as Envoy wrote it, only when asked for (`keepMessages`): `-o json|yaml` prints it. */
  message?: unknown;
}

/** The clusters read from a config dump or a `?resource=` answer. */
export interface ClustersDump {
  shape: DumpShape;
  clusters: ClusterEntry[];
  problems: string[];
}

/** Which `?resource=` answer the text is, when it is one: Envoy's DynamicCluster entries do not say. */
export interface ClustersDumpOptions {
  resource?: 'dynamic_active_clusters' | 'dynamic_warming_clusters';
  /** Keep each Cluster message; left out otherwise, as an audit holds thousands of dumps at once. */
  keepMessages?: boolean;
}

// envoy.config.cluster.v3.Cluster, the fields istioctl's cluster table reads.
const ClusterSchema = z.object({
  name: z.string(),
  type: z.union([z.string(), z.number()]).optional(),
  cluster_type: z.object({ name: z.string().optional() }).optional(),
  metadata: z.object({ filter_metadata: z.record(z.string(), z.unknown()).optional() }).optional(),
});
// envoy.admin.v3.ClustersConfigDump.{Static,Dynamic}Cluster
const ClusterEntrySchema = z.object({
  version_info: z.string().optional(),
  last_updated: z.string().optional(),
  cluster: z.unknown(),
});
const ClustersSectionSchema = z.object({
  static_clusters: z.array(z.unknown()).optional(),
  dynamic_active_clusters: z.array(z.unknown()).optional(),
  dynamic_warming_clusters: z.array(z.unknown()).optional(),
});

// envoy.config.cluster.v3.Cluster.DiscoveryType, for a dump that spells the enum as a number.
const DISCOVERY_TYPES = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'];

/**
 * Parses the clusters of an Envoy config dump (static, dynamic active and dynamic warming), or of a
 * `?resource=dynamic_active_clusters&mask=cluster.name,cluster.type` answer, in dump order. Never throws.
 */
export function parseClustersDump(text: string, options: ClustersDumpOptions = {}): Evidence<ClustersDump> {
  const root = readDump(text, 'clusters');
  if (!root.ok) return root;
  const problems: string[] = [];
  const { configs, bare } = root.value;
  let section: unknown;
  if (configs) {
    section = configs.findLast((c) => typeOf(c) === CLUSTERS_SECTION);
    if (section === undefined) {
      const dynamicState: ClusterState = options.resource === 'dynamic_warming_clusters' ? 'warming' : 'active';
      const clusters: ClusterEntry[] = [];
      configs.forEach((c, i) => {
        const type = typeOf(c);
        if (type === DYNAMIC_CLUSTER || type === STATIC_CLUSTER) {
          const state = type === STATIC_CLUSTER ? 'static' : dynamicState;
          pushCluster(clusters, c, state, `configs entry ${i + 1}`, problems, options);
        }
      });
      if (clusters.length === 0 && problems.length === 0) {
        return noSection(configs, 'ClustersConfigDump', 'clusters') ?? { ok: true, value: { shape: 'empty', clusters: [], problems } };
      }
      return { ok: true, value: { shape: 'resource', clusters, problems } };
    }
  } else if (
    bare &&
    ('static_clusters' in bare ||
      'dynamic_active_clusters' in bare ||
      'dynamic_warming_clusters' in bare ||
      typeOf(bare) === CLUSTERS_SECTION)
  ) {
    section = bare;
  } else if (bare && Object.keys(bare).length === 0) {
    return { ok: true, value: { shape: 'empty', clusters: [], problems } };
  } else {
    return { ok: false, reason: 'is not an Envoy config dump: it has no "configs" list' };
  }
  const parsed = ClustersSectionSchema.safeParse(section);
  if (!parsed.success) return { ok: false, reason: 'has a ClustersConfigDump without the expected shape' };
  const clusters: ClusterEntry[] = [];
  const lists: [keyof typeof parsed.data, ClusterState][] = [
    ['static_clusters', 'static'],
    ['dynamic_active_clusters', 'active'],
    ['dynamic_warming_clusters', 'warming'],
  ];
  for (const [field, state] of lists) {
    (parsed.data[field] ?? []).forEach((item, i) => pushCluster(clusters, item, state, `${field} entry ${i + 1}`, problems, options));
  }
  return { ok: true, value: { shape: 'config-dump', clusters, problems } };
}

function pushCluster(
  clusters: ClusterEntry[],
  item: unknown,
  state: ClusterState,
  what: string,
  problems: string[],
  options: ClustersDumpOptions,
): void {
  const entry = ClusterEntrySchema.safeParse(item);
  const cluster = entry.success ? ClusterSchema.safeParse(entry.data.cluster) : undefined;
  if (!entry.success || !cluster?.success) {
    problems.push(`${what} has no cluster name: skipped`);
    return;
  }
  const c = cluster.data;
  const key = parseClusterName(c.name);
  // istioctl prints Cluster.GetType(), which is STATIC (the zero value) for a custom cluster type too.
  const type = c.cluster_type ? 'STATIC' : typeof c.type === 'number' ? (DISCOVERY_TYPES[c.type] ?? String(c.type)) : (c.type ?? 'STATIC');
  clusters.push({
    name: c.name,
    type,
    customType: c.cluster_type?.name,
    state,
    ...key,
    destinationRule: describeIstioConfig(c.metadata?.filter_metadata),
    versionInfo: entry.data.version_info,
    lastUpdated: entry.data.last_updated,
    ...(options.keepMessages ? { message: entry.data.cluster } : {}),
  });
}
