import { SyncStatusSchema, type SyncStatus } from './mesh-view.ts';
import { issuesText } from '../shared/zod-issues.ts';

/**
 * Per-proxy, per-xDS-type sync status from istiod's `/debug/syncz` JSON (Istio 1.24
 * pilot/pkg/xds/debug.go `Syncz`), with the states `istioctl proxy-status` prints.
 *
 * Rules, in order, for one type of one proxy (istiod's own for a watched type: pilot/pkg/xds/statusgen.go
 * debugSyncStatus, which answers `istioctl proxy-status`):
 * 1. the watched resource holds a `lastError` (Envoy NACKed the last push) → ERROR;
 * 2. the proxy does not watch the type → IGNORED. istiod 1.24 lists every watched type URL in
 *    `resources`, so a type missing from a present map is unwatched. Without that map the JSON cannot
 *    tell unwatched from unsent, and istiod's own statusgen answers NOT SENT for a sidecar (IGNORED
 *    only for ztunnel), so that is what is reported here too;
 * 3. nothing was ever sent (empty nonce) → NOT SENT;
 * 4. the sent nonce was acknowledged → SYNCED;
 * 5. otherwise → STALE.
 * istiod's statusgen lists only the watched types, and istioctl prints IGNORED for a type it does not list.
 */
export const XDS_TYPES = ['CDS', 'LDS', 'EDS', 'RDS', 'ECDS'] as const;
export type XdsType = (typeof XDS_TYPES)[number];

/** The type URLs istiod keys `resources` by (pilot/pkg/xds/v3 ClusterType … ExtensionConfigurationType). */
export const XDS_TYPE_URLS: Readonly<Record<XdsType, string>> = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  ECDS: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
};

/** The flat `<prefix>_sent` / `<prefix>_acked` keys of the same JSON. */
const FLAT_KEYS: Readonly<Record<XdsType, { sent: keyof SyncStatus; acked: keyof SyncStatus }>> = {
  CDS: { sent: 'cluster_sent', acked: 'cluster_acked' },
  LDS: { sent: 'listener_sent', acked: 'listener_acked' },
  EDS: { sent: 'endpoint_sent', acked: 'endpoint_acked' },
  RDS: { sent: 'route_sent', acked: 'route_acked' },
  ECDS: { sent: 'extensionconfig_sent', acked: 'extensionconfig_acked' },
};

export const XDS_SYNC_STATES = ['SYNCED', 'STALE', 'NOT SENT', 'ERROR', 'IGNORED'] as const;
export type XdsSyncState = (typeof XDS_SYNC_STATES)[number];

export interface XdsTypeStatus {
  type: XdsType;
  state: XdsSyncState;
  /** The nonce istiod last sent ('' when none). */
  sent: string;
  /** The nonce the proxy last acknowledged ('' when none). */
  acked: string;
  /** Envoy's rejection message (the NACK) when the state is ERROR. */
  lastError?: string;
  /** When istiod last pushed the type (`sentTime`, RFC 3339), when istiod says: istioctl prints its age. */
  sentTime?: string;
}

/** A type the proxy watches, core or not (ztunnel's WDS, …), as istiod's statusgen lists it for istioctl. */
export interface WatchedXdsType {
  typeUrl: string;
  state: XdsSyncState;
  sentTime?: string;
}

export interface ProxySyncStatus {
  proxy: string;
  clusterId: string;
  proxyType: string;
  /** `istio_version`, else `proxy_version` + '*' as istioctl prints it for an old control plane. */
  version: string;
  types: Record<XdsType, XdsTypeStatus>;
  /**
   * Every type istiod would list for the proxy (`resources`' keys; without that map, the five core types),
   * in type URL order: what istioctl 1.27+ counts as SUBSCRIBED TYPES and prints under `-v 1`.
   */
  watched: WatchedXdsType[];
}

/** The sync state of one xDS type of one proxy, by the rules in this module's header. */
export function xdsTypeStatus(status: SyncStatus, type: XdsType): XdsTypeStatus {
  const resource = status.resources?.[XDS_TYPE_URLS[type]];
  const keys = FLAT_KEYS[type];
  const sent = resource?.sent || (status[keys.sent] as string | undefined) || '';
  const acked = resource?.acked || (status[keys.acked] as string | undefined) || '';
  const timed = resource?.sentTime ? { sentTime: resource.sentTime } : {};
  if (resource?.lastError) return { type, state: 'ERROR', sent, acked, lastError: resource.lastError, ...timed };
  const watched = resource !== undefined || sent !== '';
  if (!watched) {
    const knowsWatchedTypes = status.resources !== undefined || status.proxy_type === 'ztunnel';
    return { type, state: knowsWatchedTypes ? 'IGNORED' : 'NOT SENT', sent, acked };
  }
  if (sent === '') return { type, state: 'NOT SENT', sent, acked };
  return { type, state: sent === acked ? 'SYNCED' : 'STALE', sent, acked, ...timed };
}

const CORE_TYPE_BY_URL: ReadonlyMap<string, XdsType> = new Map(XDS_TYPES.map((t) => [XDS_TYPE_URLS[t], t]));

function watchedTypes(status: SyncStatus, types: Record<XdsType, XdsTypeStatus>): WatchedXdsType[] {
  const urls = status.resources ? Object.keys(status.resources) : XDS_TYPES.map((t) => XDS_TYPE_URLS[t]);
  const watched: WatchedXdsType[] = [];
  for (const typeUrl of urls.sort(compareBytes)) {
    const core = CORE_TYPE_BY_URL.get(typeUrl);
    if (core) {
      const { state, sentTime } = types[core];
      if (state !== 'IGNORED') watched.push({ typeUrl, state, ...(sentTime ? { sentTime } : {}) });
      continue;
    }
    // Any other type (ztunnel's istio.workload.Address, …) by the same rules, from its own entry only.
    const resource = status.resources?.[typeUrl];
    const sent = resource?.sent ?? '';
    const state: XdsSyncState = resource?.lastError
      ? 'ERROR'
      : sent === ''
        ? 'NOT SENT'
        : sent === (resource?.acked ?? '')
          ? 'SYNCED'
          : 'STALE';
    watched.push({ typeUrl, state, ...(resource?.sentTime && state !== 'NOT SENT' ? { sentTime: resource.sentTime } : {}) });
  }
  return watched;
}

/** Every xDS type's state for one syncz entry, with the columns istioctl prints beside them. */
export function proxySyncStatus(status: SyncStatus): ProxySyncStatus {
  const types = Object.fromEntries(XDS_TYPES.map((t) => [t, xdsTypeStatus(status, t)])) as Record<XdsType, XdsTypeStatus>;
  return {
    proxy: status.proxy,
    clusterId: status.cluster_id ?? '',
    proxyType: status.proxy_type ?? '',
    version: status.istio_version || `${status.proxy_version ?? ''}*`,
    types,
    watched: watchedTypes(status, types),
  };
}

/** One row of `istioctl proxy-status`: a proxy as one istiod replica sees it. */
export interface ProxyStatusRow extends ProxySyncStatus {
  istiod: string;
}

export interface InvalidSyncEntry {
  istiod: string;
  index: number;
  reason: string;
}

/**
 * The rows of `istioctl proxy-status` for the syncz answers of several replicas, sorted as istioctl
 * sorts them (by proxy name; a proxy held by two replicas after a move is listed once per replica,
 * ordered by replica name so the output does not depend on the input order). Entries that are not
 * syncz objects are returned apart, never dropped silently.
 */
export function proxyStatusRows(replicas: ReadonlyArray<{ istiod: string; syncz: readonly unknown[] }>): {
  rows: ProxyStatusRow[];
  invalid: InvalidSyncEntry[];
} {
  const rows: ProxyStatusRow[] = [];
  const invalid: InvalidSyncEntry[] = [];
  for (const { istiod, syncz } of replicas) {
    syncz.forEach((item, index) => {
      const parsed = SyncStatusSchema.safeParse(item);
      if (parsed.success) rows.push({ ...proxySyncStatus(parsed.data), istiod });
      else invalid.push({ istiod, index, reason: issuesText(parsed.error) });
    });
  }
  rows.sort((a, b) => compareBytes(a.proxy, b.proxy) || compareBytes(a.istiod, b.istiod));
  return { rows, invalid };
}

/** Go orders strings by bytes; code-unit order agrees for the ASCII names Kubernetes allows, localeCompare would not. */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
