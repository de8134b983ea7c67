import { z } from 'zod';
import type { Evidence } from '../result.ts';
import { noSection, readDump, typeOf, TYPE_PREFIX } from './dump-root.ts';
import type { RouteMatchFields } from './route-match.ts';

// envoy.admin.v3.RoutesConfigDump
const ROUTES_SECTION = `${TYPE_PREFIX}RoutesConfigDump`;

/** One route of a virtual host, with what istioctl's route table reads. */
export interface RouteEntry {
  match: RouteMatchFields;
  /** The cluster of a route action that names one. */
  cluster: string | undefined;
  filterMetadata: Record<string, unknown> | undefined;
}

export interface VirtualHostEntry {
  name: string;
  domains: string[];
  routes: RouteEntry[];
}

/** One RouteConfiguration of the dump, with the raw Envoy JSON for `-o json`. */
export interface RouteConfigEntry {
  name: string;
  virtualHosts: VirtualHostEntry[];
  raw: unknown;
}

const RouteSchema = z.object({
  match: z
    .object({
      prefix: z.string().optional(),
      path: z.string().optional(),
      path_separated_prefix: z.string().optional(),
      safe_regex: z.object({ regex: z.string().optional() }).optional(),
    })
    .optional(),
  route: z.object({ cluster: z.string().optional() }).optional(),
  metadata: z.object({ filter_metadata: z.record(z.string(), z.unknown()).optional() }).optional(),
});
const RouteConfigSchema = z.object({
  name: z.string().optional(),
  virtual_hosts: z
    .array(z.object({ name: z.string().optional(), domains: z.array(z.string()).optional(), routes: z.array(RouteSchema).optional() }))
    .optional(),
});
const RoutesSectionSchema = z.object({
  static_route_configs: z.array(z.object({ route_config: z.unknown() }).catch({ route_config: undefined })).optional(),
  dynamic_route_configs: z.array(z.object({ route_config: z.unknown() }).catch({ route_config: undefined })).optional(),
});

/**
 * Reads the RoutesConfigDump of an Envoy config dump: dynamic route configurations, then static ones, each
 * in dump order, as istioctl gathers them. Never throws; one that does not parse makes the dump unreadable,
 * as istioctl refuses it.
 */
export function parseRoutesDump(text: string): Evidence<RouteConfigEntry[]> {
  const root = readDump(text, 'routes');
  if (!root.ok) return root;
  const { configs, bare } = root.value;
  const section = configs ? configs.findLast((c) => typeOf(c) === ROUTES_SECTION) : typeOf(bare) === ROUTES_SECTION ? bare : undefined;
  if (section === undefined) {
    if (configs) return noSection(configs, 'RoutesConfigDump', 'routes') ?? { ok: true, value: [] };
    return { ok: false, reason: 'is not an Envoy config dump: it has no "configs" list' };
  }
  const parsed = RoutesSectionSchema.safeParse(section);
  if (!parsed.success) return { ok: false, reason: 'has a RoutesConfigDump without the expected shape' };
  const entries: RouteConfigEntry[] = [];
  for (const { route_config: raw } of [...(parsed.data.dynamic_route_configs ?? []), ...(parsed.data.static_route_configs ?? [])]) {
    if (raw === undefined) continue;
    const config = RouteConfigSchema.safeParse(raw);
    if (!config.success)
      return { ok: false, reason: `has a route configuration istioctl cannot read (${config.error.issues[0]?.path.join('.') ?? ''})` };
    entries.push({
      name: config.data.name ?? '',
      virtualHosts: (config.data.virtual_hosts ?? []).map((vh) => ({
        name: vh.name ?? '',
        domains: vh.domains ?? [],
        routes: (vh.routes ?? []).map((r) => ({
          match: r.match ?? {},
          cluster: r.route?.cluster,
          filterMetadata: r.metadata?.filter_metadata,
        })),
      })),
      raw,
    });
  }
  return { ok: true, value: entries };
}
