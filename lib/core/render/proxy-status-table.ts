import { humanDuration } from '../human-duration.ts';
import { isAtLeast, NEWEST_ISTIOCTL_VERSION, type IstioctlVersion } from '../istioctl-version.ts';
import { XDS_TYPE_URLS, XDS_TYPES, type ProxyStatusRow, type XdsSyncState } from '../proxy-status.ts';
import { goTabwriter, type TabwriterSettings } from './go-tabwriter.ts';
import { sanitizeForTerminal } from './text.ts';

/** istioctl XdsStatusWriter (writer/pilot/status.go): `tabwriter.NewWriter(w, 0, 8, 5, ' ', 0)`. */
const ISTIOCTL_TABWRITER: TabwriterSettings = { minwidth: 0, padding: 5 };

export interface ProxyStatusTableOptions {
  /** When the table is printed: a state's age is measured from istiod's `sentTime` to it. */
  now: Date;
  /** The istioctl release whose layout is printed (default: the newest supported). */
  version?: IstioctlVersion;
  /** istioctl 1.27+'s `-v`: 1 prints every type's state instead of the SUBSCRIBED TYPES summary. */
  verbosity?: number;
}

// pkg/model GetShortType: the column and list names of the types istiod serves; any other type by its URL.
const SHORT_TYPE_NAMES: ReadonlyMap<string, string> = new Map([
  ...XDS_TYPES.map((t) => [XDS_TYPE_URLS[t], t] as const),
  ['type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', 'SDS'],
  ['type.googleapis.com/istio.networking.nds.v1.NameTable', 'NDS'],
  ['type.googleapis.com/istio.mesh.v1alpha1.ProxyConfig', 'PCDS'],
  ['type.googleapis.com/istio.workload.Address', 'WDS'],
  ['type.googleapis.com/istio.workload.Workload', 'WDS'],
  ['type.googleapis.com/istio.security.Authorization', 'WADS'],
]);
const shortType = (typeUrl: string): string => SHORT_TYPE_NAMES.get(typeUrl) ?? typeUrl;

/**
 * `istioctl proxy-status` in the layout of `version`, one line per proxy and replica, rows in the order
 * given (see proxyStatusRows for istioctl's sort):
 * - 1.24–1.26: `NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION`;
 * - 1.27+: `NAME CLUSTER ISTIOD VERSION SUBSCRIBED TYPES`, the types a proxy watches as `3 (CDS,LDS,EDS)`
 *   (CDS LDS EDS RDS first, then the others in type URL order), or with `verbosity` 1 one column per type
 *   seen or core, in type URL order (CDS ECDS EDS LDS RDS …), IGNORED where a proxy does not watch it.
 * Every release since 1.23 follows a state other than NOT SENT and IGNORED with its age, `SYNCED (3m)`,
 * when istiod gave the time of the push. (istioctl 1.27.0 alone refuses a table without proxies.)
 */
export function renderProxyStatusTable(rows: readonly ProxyStatusRow[], options: ProxyStatusTableOptions): string {
  const version = options.version ?? NEWEST_ISTIOCTL_VERSION;
  const state = (s: { state: XdsSyncState; sentTime?: string }): string => withAge(s.state, s.sentTime, options.now);
  let lines: string[][];
  if (!isAtLeast(version, '1.27')) {
    lines = [['NAME', 'CLUSTER', ...XDS_TYPES, 'ISTIOD', 'VERSION']];
    for (const row of rows) lines.push([row.proxy, row.clusterId, ...XDS_TYPES.map((t) => state(row.types[t])), row.istiod, row.version]);
  } else if ((options.verbosity ?? 0) > 0) {
    const columns = [...new Set([...XDS_TYPES.map((t) => XDS_TYPE_URLS[t]), ...rows.flatMap((r) => r.watched.map((w) => w.typeUrl))])].sort(
      compareBytes,
    );
    lines = [['NAME', 'CLUSTER', ...columns.map(shortType), 'ISTIOD', 'VERSION']];
    for (const row of rows) {
      const byUrl = new Map(row.watched.map((w) => [w.typeUrl, w]));
      const cells = columns.map((url) => {
        const watched = byUrl.get(url);
        return watched ? state(watched) : 'IGNORED';
      });
      lines.push([row.proxy, row.clusterId, ...cells, row.istiod, row.version]);
    }
  } else {
    const seen = new Set(rows.flatMap((r) => r.watched.map((w) => w.typeUrl)));
    const core = [XDS_TYPE_URLS.CDS, XDS_TYPE_URLS.LDS, XDS_TYPE_URLS.EDS, XDS_TYPE_URLS.RDS];
    const order = [...core.filter((u) => seen.has(u)), ...[...seen].filter((u) => !core.includes(u)).sort(compareBytes)];
    lines = [['NAME', 'CLUSTER', 'ISTIOD', 'VERSION', 'SUBSCRIBED TYPES']];
    for (const row of rows) {
      const watched = new Set(row.watched.map((w) => w.typeUrl));
      const names = order.filter((u) => watched.has(u)).map(shortType);
      lines.push([row.proxy, row.clusterId, row.istiod, row.version, names.length === 0 ? '0' : `${names.length} (${names.join(',')})`]);
    }
  }
  // A tab or newline inside a value would shift every column after it.
  return goTabwriter(lines.map((cells) => `${cells.map(sanitizeForTerminal).join('\t')}\n`).join(''), ISTIOCTL_TABWRITER);
}

function withAge(state: XdsSyncState, sentTime: string | undefined, now: Date): string {
  if (state === 'NOT SENT' || state === 'IGNORED' || sentTime === undefined) return state;
  const sent = parseRfc3339(sentTime);
  return sent === undefined ? state : `${state} (${humanDuration(now.getTime() - sent)})`;
}

// Go marshals time.Time as RFC 3339 with up to nine fraction digits; year 1 is its zero time.
function parseRfc3339(text: string): number | undefined {
  const m =
    /^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})T(?<h>\d{2}):(?<mi>\d{2}):(?<s>\d{2})(?:\.(?<frac>\d{1,9}))?(?<zone>Z|[+-]\d{2}:\d{2})$/i.exec(
      text,
    )?.groups;
  if (!m?.y || !m.mo || !m.d || !m.h || !m.mi || !m.s || !m.zone) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(Number(m.y), Number(m.mo) - 1, Number(m.d));
  date.setUTCHours(Number(m.h), Number(m.mi), Number(m.s), Math.trunc(Number(`0.${m.frac ?? '0'}`) * 1000));
  const zone =
    m.zone.toUpperCase() === 'Z' ? 0 : (m.zone.startsWith('-') ? -1 : 1) * (Number(m.zone.slice(1, 3)) * 60 + Number(m.zone.slice(4, 6)));
  const time = date.getTime() - zone * 60_000;
  return Number.isFinite(time) ? time : undefined;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
