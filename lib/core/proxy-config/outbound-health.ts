import type { Evidence } from '../result.ts';
import { parseClusterStatuses, type ClusterStatusEntry, type HostStatusEntry } from './cluster-statuses.ts';

/** How many clusters without a healthy endpoint a snapshot names; the rest are counted. */
const NAMED_UNHEALTHY_CLUSTERS = 10;

/** A cluster name is the VM's text: it is kept to this length. */
const MAX_CLUSTER_NAME = 256;

/** One outbound cluster whose endpoints are all unhealthy, with what took them out. */
export interface UnhealthyCluster {
  name: string;
  endpoints: number;
  /** Per reason (the EDS status, or a HostHealthStatus flag), how many of its endpoints it holds; sorted by reason. */
  reasons: Array<[reason: string, endpoints: number]>;
}

/**
 * What XDS-06 needs of Envoy's `/clusters?format=json`, and no more: a fleet keeps one per VM, so it holds
 * counts and at most NAMED_UNHEALTHY_CLUSTERS names, never the answer itself.
 */
export interface OutboundHealth {
  /** Outbound clusters (`outbound|…`) with at least one endpoint. */
  withEndpoints: number;
  /** Outbound clusters without any endpoint: an empty service, not an unhealthy one. */
  withoutEndpoints: number;
  /** How many of `withEndpoints` have no healthy endpoint. */
  unhealthy: number;
  /** The first of them by name. */
  named: UnhealthyCluster[];
}

/**
 * EDS statuses (envoy.config.core.v3.HealthStatus) under which Envoy still sends a host traffic: HEALTHY;
 * UNKNOWN, which is what EDS gives when it says nothing (proto3 JSON leaves the zero value out, and the
 * cluster-statuses parser reads an absent status as UNKNOWN); and DEGRADED, whose hosts Envoy's load
 * balancers use once no healthy host is left (source/common/upstream/load_balancer_impl.cc). UNHEALTHY,
 * DRAINING and TIMEOUT take the host out.
 */
const SERVING_EDS_STATUSES = new Set(['HEALTHY', 'UNKNOWN', 'DEGRADED']);

/**
 * HostHealthStatus flags that leave the host in rotation: a failed degraded check makes it degraded (see
 * above), and pending_dynamic_removal only says EDS dropped a host that health checking still holds,
 * which Envoy keeps routing to while it passes them (HostImpl::coarseHealth does not read it).
 */
const SERVING_FLAGS = new Set(['failed_active_degraded_check', 'pending_dynamic_removal']);

/**
 * Why a host cannot take traffic, or none when it can, which is when a request finds "no healthy
 * upstream" (Istio leaves Envoy's panic mode off, so unhealthy hosts are not used as a last resort). After
 * Envoy's coarse health (source/common/upstream/upstream_impl.h, HostImpl::coarseHealth): a failed active
 * health check or outlier check, an UNHEALTHY, DRAINING or TIMEOUT EDS status; and the flags that exclude a
 * host although its coarse health says healthy: awaiting its first health check, excluded by an immediate
 * failure, a timed-out check. istioctl's endpoints table (writer/envoy/clusters retrieveEndpointStatus)
 * shows the EDS status and the outlier check only.
 */
function unhealthyReasons(host: HostStatusEntry): string[] {
  const reasons = SERVING_EDS_STATUSES.has(host.healthStatus) ? [] : [`eds_health_status ${host.healthStatus || 'unknown value'}`];
  if (host.failedOutlierCheck) reasons.push('failed_outlier_check');
  return [...reasons, ...host.flags.filter((flag) => !SERVING_FLAGS.has(flag))];
}

/** Reads a `/clusters?format=json` answer into what XDS-06 judges. Never throws. */
export function parseOutboundHealth(text: string): Evidence<OutboundHealth> {
  const parsed = parseClusterStatuses(text);
  return parsed.ok ? { ok: true, value: outboundHealth(parsed.value) } : parsed;
}

/** The outbound clusters' health, each cluster named once (Envoy prints a name once; a repeat is merged). */
export function outboundHealth(clusters: readonly ClusterStatusEntry[]): OutboundHealth {
  const outbound = new Map<string, HostStatusEntry[]>();
  for (const cluster of clusters) {
    if (!cluster.name.startsWith('outbound|')) continue;
    outbound.set(cluster.name, [...(outbound.get(cluster.name) ?? []), ...cluster.hosts]);
  }
  let withEndpoints = 0;
  let withoutEndpoints = 0;
  const unhealthy: string[] = [];
  for (const [name, hosts] of outbound) {
    if (hosts.length === 0) {
      withoutEndpoints++;
      continue;
    }
    withEndpoints++;
    if (hosts.every((host) => unhealthyReasons(host).length > 0)) unhealthy.push(name);
  }
  unhealthy.sort();
  const named = unhealthy.slice(0, NAMED_UNHEALTHY_CLUSTERS).map((name): UnhealthyCluster => {
    const hosts = outbound.get(name)!;
    const reasons = new Map<string, number>();
    for (const host of hosts) for (const reason of unhealthyReasons(host)) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    return {
      name: name.length > MAX_CLUSTER_NAME ? `${name.slice(0, MAX_CLUSTER_NAME)}…` : name,
      endpoints: hosts.length,
      reasons: [...reasons].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    };
  });
  return { withEndpoints, withoutEndpoints, unhealthy: unhealthy.length, named };
}
