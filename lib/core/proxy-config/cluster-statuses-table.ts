import { goTabwriter } from '../render/go-tabwriter.ts';
import { sanitizeForTerminal } from '../render/text.ts';
import type { ClusterStatusEntry, HostStatusEntry } from './cluster-statuses.ts';
import type { EndpointFilter } from './endpoints-table.ts';
import { compareGoStrings } from './go-string-order.ts';

/**
 * `istioctl proxy-config endpoints --file` (1.24–1.29 print the same table, writer/envoy/clusters):
 * `ENDPOINT STATUS OUTLIER CHECK CLUSTER`, one row per host the filter keeps, by address, port and cluster.
 * The --address filter compares the address without its port, as istioctl's does.
 */
export function renderClusterStatusesTable(clusters: ClusterStatusEntry[], filter: EndpointFilter = {}): string {
  const rows = clusters.flatMap((c) => c.hosts.filter((h) => matches(h, c.name, filter)).map((h) => ({ ...h, cluster: c.name })));
  rows.sort((a, b) => compareGoStrings(a.address, b.address) || a.port - b.port || compareGoStrings(a.cluster, b.cluster));
  let text = 'ENDPOINT\tSTATUS\tOUTLIER CHECK\tCLUSTER\n';
  for (const r of rows) {
    const endpoint = r.port !== 0 ? `${r.address}:${r.port}` : r.address;
    text += `${[endpoint, r.healthStatus, r.failedOutlierCheck ? 'FAILED' : 'OK', r.cluster].map(sanitizeForTerminal).join('\t')}\n`;
  }
  return goTabwriter(text, { minwidth: 0, padding: 5 });
}

/** The ClusterStatus messages `-o json|yaml` prints: the clusters with a host the filter keeps, in Envoy's order. */
export function istioctlClusterStatusMessages(clusters: ClusterStatusEntry[], filter: EndpointFilter = {}): unknown[] {
  return clusters.filter((c) => c.hosts.some((h) => matches(h, c.name, filter))).map((c) => c.raw);
}

function matches(host: HostStatusEntry, cluster: string, filter: EndpointFilter): boolean {
  const fold = (s: string): string => s.toLowerCase();
  if (filter.address && fold(host.address) !== fold(filter.address)) return false;
  if (filter.port && host.port !== filter.port) return false;
  if (filter.cluster && fold(cluster) !== fold(filter.cluster)) return false;
  if (filter.status && fold(host.healthStatus) !== fold(filter.status)) return false;
  return true;
}
