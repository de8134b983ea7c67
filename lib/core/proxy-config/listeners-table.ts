import { goTabwriter, type TabwriterSettings } from '../render/go-tabwriter.ts';
import { sanitizeForTerminal } from '../render/text.ts';
import { inlineRouteConfig, type FilterChain, type InlineRouteConfig, type ListenerEntry } from './listeners-dump.ts';
import { compareGoStrings } from './go-string-order.ts';
import { describeRouteMatch } from './route-match.ts';

// istioctl/pkg/writer/envoy/configdump/listener.go: tabwriter.Init(w, 0, 8, 1, ' ', 0).
const LISTENER_TABLE: TabwriterSettings = { minwidth: 0, padding: 1 };

const HTTP_CONNECTION_MANAGER = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY = 'envoy.filters.network.tcp_proxy';
const BLACK_HOLE_CLUSTER = 'BlackHoleCluster';

/** istioctl's listener filters (`--address`, `--port`, `--type`); empty or 0 matches all. */
export interface ListenerFilter {
  address?: string;
  port?: number;
  type?: string;
}

export interface ListenersTableOptions {
  filter?: ListenerFilter;
  /** istioctl's `--verbose` (its default): one row per filter chain with MATCH and DESTINATION. */
  verbose?: boolean;
  /** Adds the NAME column with `listener/<name>` that `istioctl proxy-config all` prints. */
  withConfigType?: boolean;
}

/**
 * `istioctl proxy-config listeners --file` (1.24–1.29 print the same table): the listeners the filter
 * keeps, by port, address and type; verbose, one row per filter chain, by DESTINATION descending.
 * istioctl sorts with Go's sort.Slice, which is stable (insertion sort) up to twelve items; ties among
 * more may be placed otherwise by istioctl.
 */
export function renderListenersTable(listeners: ListenerEntry[], options: ListenersTableOptions = {}): string {
  const verbose = options.verbose ?? true;
  const named = options.withConfigType === true;
  const kept = listeners.filter((l) => matchesListenerFilter(l, options.filter ?? {}));
  const ordered = stableSort(
    kept,
    (a, b) => a.port - b.port || compareGoStrings(a.address, b.address) || compareGoStrings(listenerType(a), listenerType(b)),
  );
  const header = [...(named ? ['NAME'] : []), 'ADDRESSES', 'PORT', ...(verbose ? ['MATCH', 'DESTINATION'] : ['TYPE'])];
  let text = `${header.join('\t')}\n`;
  for (const l of ordered) {
    const lead = [...(named ? [`listener/${l.name}`] : []), [l.address, ...l.additionalAddresses].join(','), String(l.port)];
    const rows = verbose
      ? stableSort(
          l.filterChains.map((fc) => ({ match: describeChainMatch(fc), destination: describeDestination(fc) })),
          (a, b) => compareGoStrings(b.destination, a.destination),
        ).map((m) => [...lead, m.match, m.destination])
      : [[...lead, listenerType(l)]];
    for (const cells of rows) text += `${cells.map(sanitizeForTerminal).join('\t')}\n`;
  }
  return goTabwriter(text, LISTENER_TABLE);
}

/** The Listener messages `-o json|yaml` prints: those the filter keeps, in istioctl's order. */
export function istioctlListenerMessages(listeners: ListenerEntry[], filter: ListenerFilter = {}): unknown[] {
  return listeners.filter((l) => matchesListenerFilter(l, filter)).map((l) => l.raw);
}

export function matchesListenerFilter(l: ListenerEntry, filter: ListenerFilter): boolean {
  const fold = (s: string): string => s.toLowerCase();
  if (filter.address && ![...l.additionalAddresses, l.address].some((a) => fold(a) === fold(filter.address ?? ''))) return false;
  if (filter.port && l.port !== filter.port) return false;
  if (filter.type && fold(listenerType(l)) !== fold(filter.type)) return false;
  return true;
}

// istioctl retrieveListenerType: HTTP, TCP, HTTP+TCP or UNKNOWN, a TCP proxy to BlackHoleCluster not counting.
export function listenerType(l: ListenerEntry): string {
  let http = 0;
  let tcp = 0;
  for (const fc of l.filterChains) {
    for (const f of fc.filters ?? []) {
      if (f.name === HTTP_CONNECTION_MANAGER) http++;
      else if (f.name === TCP_PROXY && !isBlackHole(f.typed_config)) tcp++;
    }
  }
  if (http > 0) return tcp === 0 ? 'HTTP' : 'HTTP+TCP';
  return tcp > 0 ? 'TCP' : 'UNKNOWN';
}

// istioctl looks for the name anywhere in the serialized TCP proxy config.
const isBlackHole = (config: unknown): boolean => JSON.stringify(config ?? {}).includes(BLACK_HOLE_CLUSTER);

// The ALPN lists Istio writes, by the name istioctl gives them.
const KNOWN_ALPNS: Array<[string, string[]]> = [
  ['App: HTTP TLS', ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: Istio HTTP Plain', ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: TCP TLS', ['istio-peer-exchange', 'istio']],
  ['App: HTTP', ['http/1.0', 'http/1.1', 'h2c']],
];

// istioctl getMatches: SNI, transport, ALPN and destination of a filter chain match, ALL when none.
function describeChainMatch(fc: FilterChain): string {
  const m = fc.filter_chain_match ?? {};
  const parts: string[] = [];
  if (m.server_names?.length) parts.push(`SNI: ${m.server_names.join(',')}`);
  if (m.transport_protocol) parts.push(`Trans: ${m.transport_protocol}`);
  const alpn = m.application_protocols ?? [];
  if (alpn.length > 0) {
    const known = KNOWN_ALPNS.find(([, list]) => list.length === alpn.length && list.every((p, i) => p === alpn[i]));
    parts.push(known ? known[0] : `App: ${alpn.join(',')}`);
  }
  const port = m.destination_port === undefined ? '' : `:${m.destination_port}`;
  if (m.prefix_ranges?.length)
    parts.push(`Addr: ${m.prefix_ranges.map((p) => `${p.address_prefix ?? ''}/${p.prefix_len ?? 0}`).join(',')}${port}`);
  else if (port) parts.push(`Addr: *${port}`);
  return parts.length === 0 ? 'ALL' : parts.join('; ');
}

// istioctl getFilterType: where the first HTTP connection manager or TCP proxy (not to BlackHoleCluster) sends traffic.
function describeDestination(fc: FilterChain): string {
  for (const f of fc.filters ?? []) {
    const config = f.typed_config ?? {};
    if (f.name === HTTP_CONNECTION_MANAGER) {
      const inline = config.route_config === undefined ? undefined : inlineRouteConfig(config.route_config);
      if (inline) return describeInlineRoutes(inline);
      const rds = config.rds as { route_config_name?: unknown } | undefined;
      if (typeof rds?.route_config_name === 'string' && rds.route_config_name !== '') return `Route: ${rds.route_config_name}`;
      return 'HTTP';
    }
    if (f.name === TCP_PROXY && !isBlackHole(config)) {
      const cluster = typeof config.cluster === 'string' ? config.cluster : '';
      return cluster.includes('Cluster') ? cluster : `Cluster: ${cluster}`;
    }
  }
  return 'Non-HTTP/Non-TCP';
}

// istioctl describeRouteConfig: the cluster of a match-all route alone, else each virtual host's domains and matches.
function describeInlineRoutes(config: InlineRouteConfig): string {
  const vhosts = config.virtual_hosts ?? [];
  const only = vhosts.length === 1 ? vhosts[0] : undefined;
  const route = only?.routes?.length === 1 ? only.routes[0] : undefined;
  if (only && only.domains?.length === 1 && only.domains[0] === '*' && route?.match?.prefix === '/' && route.route?.cluster !== undefined) {
    const cluster = route.route.cluster;
    return cluster.includes('Cluster') ? cluster : `Cluster: ${cluster}`;
  }
  const described = vhosts.map((vh) => {
    const domains = vh.domains?.length === 1 && vh.domains[0] === '*' ? '' : (vh.domains ?? []).join('/');
    const matches = (vh.routes ?? []).map((r) => describeRouteMatch(r.match ?? {})).join(', ');
    return domains === '' ? matches : `${domains} ${matches}`;
  });
  return `Inline Route: ${described.join('; ')}`;
}

function stableSort<T>(items: T[], compare: (a: T, b: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => compare(a.item, b.item) || a.index - b.index)
    .map((x) => x.item);
}
