import { goTabwriter, type TabwriterSettings } from '../render/go-tabwriter.ts';
import { sanitizeForTerminal } from '../render/text.ts';
import { describeIstioConfig } from './istio-config-ref.ts';
import { describeRouteMatch } from './route-match.ts';
import type { RouteConfigEntry, RouteEntry } from './routes-dump.ts';

// istioctl/pkg/writer/envoy/configdump/route.go: tabwriter.Init(w, 0, 8, 5, ' ', 0).
const ROUTE_TABLE: TabwriterSettings = { minwidth: 0, padding: 5 };

export interface RoutesTableOptions {
  /** `--name`: only the route configuration of that exact name. */
  name?: string;
  /** istioctl's `--verbose` (its default): one row per route instead of one per route configuration. */
  verbose?: boolean;
  /** Names each configuration `route/<name>`, as `istioctl proxy-config all` does. */
  withConfigType?: boolean;
}

/**
 * The route configurations in istioctl's order. istioctl sorts with a comparison that holds only between
 * numeric names (a port) and calls any other pair unordered; Go's sort.Slice settles that by insertion
 * sort up to twelve configurations, reproduced here. Beyond twelve Go switches to pattern-defeating
 * quicksort, whose placement of the non-numeric names this does not reproduce.
 */
export function istioctlRouteOrder(configs: RouteConfigEntry[]): RouteConfigEntry[] {
  const sorted = [...configs];
  const less = (a: RouteConfigEntry, b: RouteConfigEntry): boolean => {
    const x = goAtoi(a.name);
    const y = goAtoi(b.name);
    return x !== undefined && y !== undefined && x < y;
  };
  for (let i = 1; i < sorted.length; i++) {
    for (let j = i; j > 0 && less(sorted[j]!, sorted[j - 1]!); j--) [sorted[j - 1], sorted[j]] = [sorted[j]!, sorted[j - 1]!];
  }
  return sorted;
}

/** `istioctl proxy-config routes --file` (1.24–1.29 print the same table). */
export function renderRoutesTable(configs: RouteConfigEntry[], options: RoutesTableOptions = {}): string {
  const verbose = options.verbose ?? true;
  let text = verbose ? 'NAME\tVHOST NAME\tDOMAINS\tMATCH\tVIRTUAL SERVICE\n' : 'NAME\tVIRTUAL HOSTS\n';
  const row = (cells: string[]): void => {
    text += `${cells.map(sanitizeForTerminal).join('\t')}\n`;
  };
  for (const config of istioctlRouteOrder(configs)) {
    if (options.name && options.name !== config.name) continue;
    const name = options.withConfigType ? `route/${config.name}` : config.name;
    if (!verbose) {
      row([name, String(config.virtualHosts.length)]);
      continue;
    }
    for (const vh of config.virtualHosts) {
      const domains = describeRouteDomains(vh.domains);
      for (const route of vh.routes) {
        if (!isPassthrough(route))
          row([name, vh.name, domains, describeRouteMatch(route.match), describeIstioConfig(route.filterMetadata)]);
      }
      if (vh.routes.length === 0) row([name, vh.name, domains, '/*', '404']);
    }
  }
  return goTabwriter(text, ROUTE_TABLE);
}

/** The RouteConfiguration messages `-o json|yaml` prints: those istioctl would list, in its order. */
export function istioctlRouteMessages(configs: RouteConfigEntry[], options: RoutesTableOptions = {}): unknown[] {
  return istioctlRouteOrder(configs)
    .filter((c) => !options.name || options.name === c.name)
    .map((c) => c.raw);
}

// pilot/pkg/networking/util PassthroughCluster: istioctl hides the routes to it.
const isPassthrough = (route: RouteEntry): boolean => route.cluster === 'PassthroughCluster';

/**
 * istioctl's DOMAINS cell: the one domain, or the domains without a port (an IPv6 literal counts as one
 * when bracketed without a port), less the long forms of a short name also listed, two at most and
 * `+ N more...`.
 */
export function describeRouteDomains(domains: string[]): string {
  if (domains.length === 0) return '';
  if (domains.length === 1) return domains[0]!;
  const withoutPort = domains.filter((d) => !d.includes(':') || ((d.match(/:/g)?.length ?? 0) > 2 && d.endsWith(']')));
  const shown = unexpandDomains(withoutPort);
  if (shown.length > 2) return `${shown.slice(0, 2).join(', ')} + ${shown.length - 2} more...`;
  return shown.join(', ');
}

function unexpandDomains(domains: string[]): string[] {
  const unique = new Set(domains);
  const drop = new Set<string>();
  for (const h of domains) {
    for (const suffix of ['.svc.cluster.local', '.svc']) {
      const short = h.endsWith(suffix) ? h.slice(0, -suffix.length) : h;
      if (short !== h && unique.has(short)) drop.add(h);
    }
  }
  return domains.filter((h) => !drop.has(h));
}

// Go's strconv.Atoi: an optionally signed decimal that fits 64 bits, else an error (undefined).
function goAtoi(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
