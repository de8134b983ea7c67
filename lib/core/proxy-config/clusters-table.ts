import { goTabwriter, type TabwriterSettings } from '../render/go-tabwriter.ts';
import { sanitizeForTerminal } from '../render/text.ts';
import type { ClusterEntry } from './clusters-dump.ts';
import { compareGoStrings } from './go-string-order.ts';

// istioctl/pkg/writer/envoy/configdump/cluster.go: tabwriter.Init(w, 0, 8, 5, ' ', 0).
const CLUSTER_TABLE: TabwriterSettings = { minwidth: 0, padding: 5 };

/** Rendering choices of the cluster table. */
export interface ClustersTableOptions {
  /** Adds the NAME column with `cluster/<name>` that `istioctl proxy-config all` prints. */
  withConfigType?: boolean;
  filter?: ClusterFilter;
}

/** istioctl's cluster filters (`--fqdn`, `--port`, `--subset`, `--direction`); empty or 0 matches all. */
export interface ClusterFilter {
  fqdn?: string;
  port?: number;
  subset?: string;
  direction?: string;
}

/**
 * Whether istioctl lists the cluster under the filter (writer/envoy/configdump cluster.go Verify): each
 * given part must occur anywhere in the cluster's name, the port as `|<port>|`, case-sensitively.
 */
export function matchesClusterFilter(name: string, filter: ClusterFilter): boolean {
  if (filter.fqdn && !name.includes(filter.fqdn)) return false;
  if (filter.direction && !name.includes(filter.direction)) return false;
  if (filter.subset && !name.includes(filter.subset)) return false;
  if (filter.port && !name.includes(`|${filter.port}|`)) return false;
  return true;
}

/**
 * The clusters istioctl lists, in its order: active and static ones (not warming), sorted by service FQDN,
 * then subset, port and direction of their names (Go compares strings bytewise, i.e. by code point).
 */
export function istioctlClusterOrder(clusters: ClusterEntry[]): ClusterEntry[] {
  // istioctl gathers the dynamic active clusters before the static ones; ties keep that order.
  const listed = [...clusters.filter((c) => c.state === 'active'), ...clusters.filter((c) => c.state === 'static')];
  return listed.sort((a, b) => {
    const ka = sortKey(a);
    const kb = sortKey(b);
    return (
      compareGoStrings(ka.fqdn, kb.fqdn) ||
      compareGoStrings(ka.subset, kb.subset) ||
      ka.port - kb.port ||
      compareGoStrings(ka.direction, kb.direction)
    );
  });
}

function sortKey(c: ClusterEntry): { fqdn: string; subset: string; port: number; direction: string } {
  return c.isSubsetKey
    ? { fqdn: c.serviceFqdn, subset: c.subset ?? '', port: c.port ?? 0, direction: c.direction ?? '' }
    : { fqdn: c.name, subset: '', port: 0, direction: '' };
}

/** `istioctl proxy-config clusters` (1.24) for these clusters, byte for byte. */
export function renderClustersTable(clusters: ClusterEntry[], options: ClustersTableOptions = {}): string {
  const withName = options.withConfigType === true;
  let text = `${withName ? 'NAME\t' : ''}SERVICE FQDN\tPORT\tSUBSET\tDIRECTION\tTYPE\tDESTINATION RULE\n`;
  for (const c of istioctlClusterOrder(clusters).filter((c) => matchesClusterFilter(c.name, options.filter ?? {}))) {
    const prefixed = `cluster/${c.name}`;
    const cells = c.isSubsetKey
      ? [c.serviceFqdn, String(c.port ?? 0), c.subset || '-', c.direction ?? '']
      : [withName ? prefixed : c.name, '-', '-', '-'];
    // A cluster name comes from the VM: a tab or newline in it would forge columns or rows.
    text += `${[...(withName ? [prefixed] : []), ...cells, c.type, c.destinationRule].map(sanitizeForTerminal).join('\t')}\n`;
  }
  return goTabwriter(text, CLUSTER_TABLE);
}

/**
 * The Cluster messages `-o json|yaml` prints: the active and static clusters the filter keeps, in
 * istioctl's order (istioctl leaves warming ones out); for an answer holding warming clusters only (a
 * `?resource=dynamic_warming_clusters` dump), those. Read with `keepMessages`, else empty.
 */
export function istioctlClusterMessages(clusters: ClusterEntry[], filter: ClusterFilter = {}): unknown[] {
  const warmingOnly = clusters.length > 0 && clusters.every((c) => c.state === 'warming');
  const listed = warmingOnly ? clusters : istioctlClusterOrder(clusters);
  return listed.filter((c) => matchesClusterFilter(c.name, filter)).flatMap((c) => (c.message === undefined ? [] : [c.message]));
}
