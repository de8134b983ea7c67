import { XDS_TYPES, type ProxyStatusRow } from '../proxy-status.ts';
import { goTabwriter, type TabwriterSettings } from './go-tabwriter.ts';
import { sanitizeForTerminal } from './text.ts';

/** istioctl 1.24 XdsStatusWriter: `tabwriter.NewWriter(w, 0, 8, 5, ' ', 0)`. */
const ISTIOCTL_TABWRITER: TabwriterSettings = { minwidth: 0, padding: 5 };

/**
 * `istioctl proxy-status` as Istio 1.24 prints it: `NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION`,
 * one line per proxy and replica, rows in the order given (see proxyStatusRows for istioctl's sort).
 */
export function renderProxyStatusTable(rows: readonly ProxyStatusRow[]): string {
  const lines = [['NAME', 'CLUSTER', ...XDS_TYPES, 'ISTIOD', 'VERSION']];
  for (const row of rows) lines.push([row.proxy, row.clusterId, ...XDS_TYPES.map((t) => row.types[t].state), row.istiod, row.version]);
  return goTabwriter(lines.map((cells) => `${cells.map(sanitizeCell).join('\t')}\n`).join(''), ISTIOCTL_TABWRITER);
}

/** A tab or newline inside a value would shift every column after it. */
const sanitizeCell = sanitizeForTerminal;
