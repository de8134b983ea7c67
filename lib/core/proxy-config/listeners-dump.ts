import { z } from 'zod';
import type { Evidence } from '../result.ts';
import { noSection, readDump, typeOf, TYPE_PREFIX } from './dump-root.ts';

// envoy.admin.v3.ListenersConfigDump
const LISTENERS_SECTION = `${TYPE_PREFIX}ListenersConfigDump`;

const RouteMatchSchema = z.object({
  prefix: z.string().optional(),
  path: z.string().optional(),
  path_separated_prefix: z.string().optional(),
  safe_regex: z.object({ regex: z.string().optional() }).optional(),
});
const InlineRouteConfigSchema = z.object({
  virtual_hosts: z
    .array(
      z.object({
        domains: z.array(z.string()).optional(),
        routes: z
          .array(z.object({ match: RouteMatchSchema.optional(), route: z.object({ cluster: z.string().optional() }).optional() }))
          .optional(),
      }),
    )
    .optional(),
});
const FilterSchema = z.object({
  name: z.string().optional(),
  typed_config: z.record(z.string(), z.unknown()).optional(),
});
const FilterChainSchema = z.object({
  name: z.string().optional(),
  filter_chain_match: z
    .object({
      server_names: z.array(z.string()).optional(),
      transport_protocol: z.string().optional(),
      application_protocols: z.array(z.string()).optional(),
      destination_port: z.number().optional(),
      prefix_ranges: z.array(z.object({ address_prefix: z.string().optional(), prefix_len: z.number().optional() })).optional(),
    })
    .optional(),
  filters: z.array(FilterSchema).optional(),
});
const AddressSchema = z.object({
  socket_address: z.object({ address: z.string().optional(), port_value: z.number().optional() }).optional(),
  pipe: z.object({ path: z.string().optional() }).optional(),
});
const ListenerSchema = z.object({
  name: z.string().optional(),
  address: AddressSchema.optional(),
  additional_addresses: z.array(z.object({ address: AddressSchema.optional() })).optional(),
  filter_chains: z.array(FilterChainSchema).optional(),
  default_filter_chain: FilterChainSchema.optional(),
});
const ListenersSectionSchema = z.object({
  static_listeners: z.array(z.object({ listener: z.unknown() }).catch({ listener: undefined })).optional(),
  dynamic_listeners: z.array(z.object({ active_state: z.object({ listener: z.unknown() }).optional() }).catch({})).optional(),
});

export type InlineRouteConfig = z.infer<typeof InlineRouteConfigSchema>;
export type FilterChain = z.infer<typeof FilterChainSchema>;

/** One listener of the dump, with the raw Envoy JSON for `-o json`. */
export interface ListenerEntry {
  name: string;
  /** The socket address, or the pipe path, '' otherwise. */
  address: string;
  additionalAddresses: string[];
  /** The socket port, 0 otherwise. */
  port: number;
  /** The filter chains, the default one last. */
  filterChains: FilterChain[];
  raw: unknown;
}

/**
 * Reads the listeners of an Envoy config dump: dynamic active ones, then static ones, each in dump order,
 * as istioctl gathers them. Never throws; a listener that does not parse makes the dump unreadable, as
 * istioctl refuses it.
 */
export function parseListenersDump(text: string): Evidence<ListenerEntry[]> {
  const root = readDump(text, 'listeners');
  if (!root.ok) return root;
  const { configs, bare } = root.value;
  const section = configs
    ? configs.findLast((c) => typeOf(c) === LISTENERS_SECTION)
    : typeOf(bare) === LISTENERS_SECTION
      ? bare
      : undefined;
  if (section === undefined) {
    if (configs) return noSection(configs, 'ListenersConfigDump', 'listeners') ?? { ok: true, value: [] };
    return { ok: false, reason: 'is not an Envoy config dump: it has no "configs" list' };
  }
  const parsed = ListenersSectionSchema.safeParse(section);
  if (!parsed.success) return { ok: false, reason: 'has a ListenersConfigDump without the expected shape' };
  const raws = [
    ...(parsed.data.dynamic_listeners ?? []).map((l) => l.active_state?.listener),
    ...(parsed.data.static_listeners ?? []).map((l) => l.listener),
  ].filter((l) => l !== undefined);
  const listeners: ListenerEntry[] = [];
  for (const raw of raws) {
    const l = ListenerSchema.safeParse(raw);
    if (!l.success) return { ok: false, reason: `has a listener istioctl cannot read (${l.error.issues[0]?.path.join('.') ?? ''})` };
    listeners.push({
      name: l.data.name ?? '',
      address: l.data.address?.socket_address?.address ?? l.data.address?.pipe?.path ?? '',
      additionalAddresses: (l.data.additional_addresses ?? []).map((a) => a.address?.socket_address?.address ?? ''),
      port: l.data.address?.socket_address?.port_value ?? 0,
      filterChains: [...(l.data.filter_chains ?? []), ...(l.data.default_filter_chain ? [l.data.default_filter_chain] : [])],
      raw,
    });
  }
  return { ok: true, value: listeners };
}

/** The route configuration inline in an HTTP connection manager, read leniently (undefined when it is not one). */
export function inlineRouteConfig(value: unknown): InlineRouteConfig | undefined {
  return InlineRouteConfigSchema.safeParse(value).data;
}
