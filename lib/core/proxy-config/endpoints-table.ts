import { goTabwriter, type TabwriterSettings } from '../render/go-tabwriter.ts';
import { sanitizeForTerminal } from '../render/text.ts';
import { parseClusterName } from './cluster-name.ts';
import type { ClusterLoadAssignmentEntry, LbEndpointEntry } from './endpoints-dump.ts';
import { compareGoStrings } from './go-string-order.ts';

// istioctl/pkg/writer/envoy/configdump/endpoint.go: tabwriter.Init(w, 0, 8, 5, ' ', 0).
const ENDPOINT_TABLE: TabwriterSettings = { minwidth: 0, padding: 5 };

/** istioctl's endpoint filters (`--address`, `--port`, `--cluster`, `--status`); empty or 0 matches all. */
export interface EndpointFilter {
  address?: string;
  port?: number;
  cluster?: string;
  status?: string;
}

/**
 * The assignments istioctl lists, in its order, each cut to the endpoints the filter keeps: one without
 * any is left out (an assignment without endpoints too), the rest sorted as the cluster table sorts names.
 */
export function filterEndpoints(assignments: ClusterLoadAssignmentEntry[], filter: EndpointFilter): ClusterLoadAssignmentEntry[] {
  const kept = assignments
    .map((cla) => ({ ...cla, endpoints: cla.endpoints.filter((ep) => matches(ep, cla.clusterName, filter)) }))
    .filter((cla) => cla.endpoints.length > 0);
  return kept.sort((a, b) => compareKeys(sortKey(a.clusterName), sortKey(b.clusterName)));
}

/** `istioctl proxy-config eds --file` (1.24–1.29 print the same table): `NAME STATUS LOCALITY CLUSTER`. */
export function renderEndpointsTable(
  assignments: ClusterLoadAssignmentEntry[],
  filter: EndpointFilter = {},
  options: { withConfigType?: boolean } = {},
): string {
  let text = 'NAME\tSTATUS\tLOCALITY\tCLUSTER\n';
  for (const cla of filterEndpoints(assignments, filter)) {
    for (const ep of cla.endpoints) {
      const name = ep.addresses.join(',');
      text += `${[options.withConfigType ? `endpoint/${name}` : name, ep.healthStatus, ep.locality, cla.clusterName].map(sanitizeForTerminal).join('\t')}\n`;
    }
  }
  return goTabwriter(text, ENDPOINT_TABLE);
}

/** The ClusterLoadAssignment messages `-o json|yaml` prints: those with an endpoint the filter keeps. */
export function istioctlAssignmentMessages(assignments: ClusterLoadAssignmentEntry[], filter: EndpointFilter = {}): unknown[] {
  return filterEndpoints(assignments, filter).map((cla) => cla.raw);
}

function matches(ep: LbEndpointEntry, cluster: string, filter: EndpointFilter): boolean {
  const fold = (s: string): string => s.toLowerCase();
  if (filter.address && !ep.addresses.some((a) => fold(a) === fold(filter.address ?? ''))) return false;
  if (filter.port && ep.port !== filter.port) return false;
  if (filter.cluster && fold(cluster) !== fold(filter.cluster)) return false;
  if (filter.status && fold(ep.healthStatus) !== fold(filter.status)) return false;
  return true;
}

interface Key {
  fqdn: string;
  subset: string;
  port: number;
  direction: string;
}

function sortKey(name: string): Key {
  const parts = parseClusterName(name);
  return parts.isSubsetKey
    ? { fqdn: parts.serviceFqdn, subset: parts.subset ?? '', port: parts.port ?? 0, direction: parts.direction ?? '' }
    : { fqdn: name, subset: '', port: 0, direction: '' };
}

function compareKeys(a: Key, b: Key): number {
  return (
    compareGoStrings(a.fqdn, b.fqdn) ||
    compareGoStrings(a.subset, b.subset) ||
    a.port - b.port ||
    compareGoStrings(a.direction, b.direction)
  );
}
