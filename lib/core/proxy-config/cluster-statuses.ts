import { z } from 'zod';
import type { Evidence } from '../result.ts';

/*
 * Envoy's admin `/clusters?format=json` (envoy.admin.v3.Clusters, api/envoy/admin/v3/clusters.proto):
 * `cluster_statuses`, each with the `host_statuses` of its endpoints and their health. This, not the config
 * dump, is what `istioctl proxy-config endpoints --file` reads.
 */

/** One host of a cluster as istioctl's endpoint table reads it. */
export interface HostStatusEntry {
  /** The socket address, `unix://<path>`, `envoy://<listener>/<id>` or `unknown`. */
  address: string;
  /** The socket port, 0 otherwise. */
  port: number;
  /** envoy.config.core.v3.HealthStatus by name, from the EDS health (UNKNOWN when left out). */
  healthStatus: string;
  failedOutlierCheck: boolean;
  /**
   * The other flags of envoy.admin.v3.HostHealthStatus that are set (by their JSON names): each takes the
   * host out of the healthy set Envoy balances over (failed_active_health_check, pending_dynamic_removal…).
   */
  flags: string[];
}

export interface ClusterStatusEntry {
  name: string;
  hosts: HostStatusEntry[];
  raw: unknown;
}

const HEALTH_STATUSES = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'];

/**
 * The boolean fields of envoy.admin.v3.HostHealthStatus besides failed_outlier_check (api/envoy/admin/v3/
 * clusters.proto, fields 1 and 4–8): failing or awaiting active health checks, degraded by them, removed
 * from discovery, or taken out of rotation.
 */
const HOST_HEALTH_FLAGS = [
  'failed_active_health_check',
  'failed_active_degraded_check',
  'pending_dynamic_removal',
  'pending_active_hc',
  'excluded_via_immediate_hc_fail',
  'active_hc_timeout',
] as const;

const HostStatusSchema = z.object({
  address: z
    .object({
      socket_address: z.object({ address: z.string().optional(), port_value: z.number().optional() }).optional(),
      pipe: z.object({ path: z.string().optional() }).optional(),
      envoy_internal_address: z.object({ server_listener_name: z.string().optional(), endpoint_id: z.string().optional() }).optional(),
    })
    .optional(),
  health_status: z
    .object({
      eds_health_status: z.union([z.string(), z.number()]).optional(),
      failed_outlier_check: z.boolean().optional(),
      failed_active_health_check: z.boolean().optional(),
      failed_active_degraded_check: z.boolean().optional(),
      pending_dynamic_removal: z.boolean().optional(),
      pending_active_hc: z.boolean().optional(),
      excluded_via_immediate_hc_fail: z.boolean().optional(),
      active_hc_timeout: z.boolean().optional(),
    })
    .optional(),
});
const ClusterStatusSchema = z.object({ name: z.string().optional(), host_statuses: z.array(HostStatusSchema).optional() });
const ClustersSchema = z.object({ cluster_statuses: z.array(z.unknown()).optional() });

/** Reads a `/clusters?format=json` answer. Never throws. */
export function parseClusterStatuses(text: string): Evidence<ClusterStatusEntry[]> {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return {
      ok: false,
      reason:
        text.trim() === '' ? 'is empty: no clusters to read' : 'is not JSON (the text /clusters prints without ?format=json, or cut short)',
    };
  }
  const root = ClustersSchema.safeParse(json);
  if (!root.success || typeof json !== 'object' || json === null || Array.isArray(json))
    return { ok: false, reason: 'is not an Envoy /clusters?format=json answer' };
  if (!('cluster_statuses' in json)) {
    const hint = 'configs' in json ? ' (a config dump: `proxy-config eds` reads one taken with ?include_eds)' : '';
    return { ok: false, reason: `is not an Envoy /clusters?format=json answer: it has no "cluster_statuses"${hint}` };
  }
  const entries: ClusterStatusEntry[] = [];
  for (const raw of root.data.cluster_statuses ?? []) {
    const cluster = ClusterStatusSchema.safeParse(raw);
    if (!cluster.success)
      return { ok: false, reason: `has a cluster status istioctl cannot read (${cluster.error.issues[0]?.path.join('.') ?? ''})` };
    entries.push({ name: cluster.data.name ?? '', hosts: (cluster.data.host_statuses ?? []).map(hostStatus), raw });
  }
  return { ok: true, value: entries };
}

// istioctl writer/envoy/clusters retrieveEndpointAddress, retrieveEndpointPort and retrieveEndpointStatus.
function hostStatus(host: z.infer<typeof HostStatusSchema>): HostStatusEntry {
  const a = host.address;
  const internal = a?.envoy_internal_address;
  const address = a?.socket_address
    ? (a.socket_address.address ?? '')
    : a?.pipe
      ? `unix://${a.pipe.path ?? ''}`
      : internal?.server_listener_name !== undefined
        ? `envoy://${internal.server_listener_name}/${internal.endpoint_id ?? ''}`
        : 'unknown';
  const status = host.health_status?.eds_health_status;
  return {
    address,
    port: a?.socket_address?.port_value ?? 0,
    healthStatus: typeof status === 'number' ? (HEALTH_STATUSES[status] ?? '') : (status ?? 'UNKNOWN'),
    failedOutlierCheck: host.health_status?.failed_outlier_check === true,
    flags: HOST_HEALTH_FLAGS.filter((flag) => host.health_status?.[flag] === true),
  };
}
