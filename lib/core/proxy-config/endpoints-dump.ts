import { z } from 'zod';
import type { Evidence } from '../result.ts';
import { noSection, readDump, typeOf, TYPE_PREFIX } from './dump-root.ts';

// envoy.admin.v3.EndpointsConfigDump: only in a dump asked for with `?include_eds`.
const ENDPOINTS_SECTION = `${TYPE_PREFIX}EndpointsConfigDump`;

/** One LbEndpoint with what istioctl's EDS table and filters read. */
export interface LbEndpointEntry {
  /** Every address of the endpoint, the main one first, as istioctl prints them (`ip:port`, a pipe path, …). */
  addresses: string[];
  /** The port of the main socket address, 0 otherwise. */
  port: number;
  /** envoy.config.core.v3.HealthStatus by name (UNKNOWN when the dump leaves it out). */
  healthStatus: string;
  /** `region/zone/subzone`, shortened when the later parts are empty. */
  locality: string;
}

/** One ClusterLoadAssignment of the dump, with the raw Envoy JSON for `-o json`. */
export interface ClusterLoadAssignmentEntry {
  clusterName: string;
  state: 'dynamic' | 'static';
  endpoints: LbEndpointEntry[];
  raw: unknown;
}

const HEALTH_STATUSES = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'];

const SocketAddressSchema = z.object({ address: z.string().optional(), port_value: z.number().optional() });
const AddressSchema = z
  .object({
    socket_address: SocketAddressSchema.optional(),
    pipe: z.object({ path: z.string().optional() }).optional(),
    envoy_internal_address: z.object({ server_listener_name: z.string().optional(), endpoint_id: z.string().optional() }).optional(),
  })
  .catch({});
const LbEndpointSchema = z.object({
  endpoint: z
    .object({
      address: AddressSchema.optional(),
      additional_addresses: z.array(z.object({ address: AddressSchema.optional() }).catch({})).optional(),
    })
    .optional(),
  health_status: z.union([z.string(), z.number()]).optional(),
});
const LocalitySchema = z.object({ region: z.string().optional(), zone: z.string().optional(), sub_zone: z.string().optional() });
const ClusterLoadAssignmentSchema = z.object({
  cluster_name: z.string().optional(),
  endpoints: z.array(z.object({ locality: LocalitySchema.optional(), lb_endpoints: z.array(LbEndpointSchema).optional() })).optional(),
});
const EndpointsSectionSchema = z.object({
  static_endpoint_configs: z.array(z.object({ endpoint_config: z.unknown() }).catch({ endpoint_config: undefined })).optional(),
  dynamic_endpoint_configs: z.array(z.object({ endpoint_config: z.unknown() }).catch({ endpoint_config: undefined })).optional(),
});

/**
 * Reads the EndpointsConfigDump of an Envoy config dump taken with `?include_eds` (dynamic, then static,
 * each in dump order, as istioctl gathers them). A ClusterLoadAssignment that does not parse is left out,
 * as istioctl leaves it. Never throws.
 */
export function parseEndpointsDump(text: string): Evidence<ClusterLoadAssignmentEntry[]> {
  const root = readDump(text, 'endpoints');
  if (!root.ok) return root;
  const { configs, bare } = root.value;
  const section = configs
    ? configs.findLast((c) => typeOf(c) === ENDPOINTS_SECTION)
    : typeOf(bare) === ENDPOINTS_SECTION
      ? bare
      : undefined;
  if (section === undefined) {
    if (configs) return noSection(configs, 'EndpointsConfigDump (take the dump with ?include_eds)', 'endpoints') ?? { ok: true, value: [] };
    return { ok: false, reason: 'is not an Envoy config dump: it has no "configs" list' };
  }
  const parsed = EndpointsSectionSchema.safeParse(section);
  if (!parsed.success) return { ok: false, reason: 'has an EndpointsConfigDump without the expected shape' };
  const entries: ClusterLoadAssignmentEntry[] = [];
  const lists: Array<[typeof parsed.data.dynamic_endpoint_configs, 'dynamic' | 'static']> = [
    [parsed.data.dynamic_endpoint_configs, 'dynamic'],
    [parsed.data.static_endpoint_configs, 'static'],
  ];
  for (const [list, state] of lists) {
    for (const { endpoint_config: raw } of list ?? []) {
      const cla = ClusterLoadAssignmentSchema.safeParse(raw);
      if (!cla.success) continue;
      const endpoints = (cla.data.endpoints ?? []).flatMap((group) =>
        (group.lb_endpoints ?? []).map((ep) => lbEndpoint(ep, localityText(group.locality))),
      );
      entries.push({ clusterName: cla.data.cluster_name ?? '', state, endpoints, raw });
    }
  }
  return { ok: true, value: entries };
}

function lbEndpoint(ep: z.infer<typeof LbEndpointSchema>, locality: string): LbEndpointEntry {
  const main = ep.endpoint?.address;
  const addresses = [main, ...(ep.endpoint?.additional_addresses ?? []).map((a) => a.address)].map(addressText);
  const status = ep.health_status;
  const healthStatus = typeof status === 'number' ? (HEALTH_STATUSES[status] ?? String(status)) : (status ?? 'UNKNOWN');
  return { addresses, port: main?.socket_address?.port_value ?? 0, healthStatus, locality };
}

// istioctl writer/envoy/configdump endpoint.go retrieveEndpointAddresses.
function addressText(address: z.infer<typeof AddressSchema> | undefined): string {
  if (address?.socket_address) return `${address.socket_address.address ?? ''}:${address.socket_address.port_value ?? 0}`;
  if (address?.pipe) return address.pipe.path ?? '';
  const internal = address?.envoy_internal_address;
  if (internal?.server_listener_name !== undefined) return `envoy://${internal.server_listener_name}/${internal.endpoint_id ?? ''}`;
  return 'unknown';
}

// pilot/pkg/networking/util LocalityToString.
function localityText(locality: z.infer<typeof LocalitySchema> | undefined): string {
  if (!locality) return '';
  let text = locality.region ?? '';
  if (!locality.zone) return text;
  text += `/${locality.zone}`;
  return locality.sub_zone ? `${text}/${locality.sub_zone}` : text;
}
