import { z } from 'zod';
import type { Evidence } from '../result.ts';

/*
 * Envoy's admin `/config_dump` (envoy.admin.v3.ConfigDump, api/envoy/admin/v3/config_dump.proto): `configs`
 * is a list of Any, one per section (`…admin.v3.ClustersConfigDump`, `…admin.v3.SecretsConfigDump`, …).
 * With `?resource=<field>` Envoy answers with the entries of that one field instead, each an Any of the
 * entry message (`…SecretsConfigDump.DynamicSecret`, `…ClustersConfigDump.DynamicCluster`,
 * `…ClustersConfigDump.StaticCluster`), and `{}` when there is none. With `&mask=` Envoy trims each entry
 * to the masked fields, and proto3 JSON leaves out default values (a STATIC cluster has no `type`).
 * Several sections of one type: the last wins, as istioctl's configdump wrapper reads them.
 */

export const TYPE_PREFIX = 'type.googleapis.com/envoy.admin.v3.';

const ConfigDumpSchema = z.object({ configs: z.array(z.unknown()).optional() });
const TypedSchema = z.object({ '@type': z.string() });

/** How the input was shaped: a full config dump, a `?resource=` answer, or one that holds nothing. */
export type DumpShape = 'config-dump' | 'resource' | 'empty';

export type DumpRoot = { configs: unknown[]; bare?: undefined } | { configs?: undefined; bare: Record<string, unknown> };

export function readDump(text: string, what: string): Evidence<DumpRoot> {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    const blank = text.trim() === '';
    return { ok: false, reason: blank ? `is empty: no ${what} to read` : 'is not JSON (cut short, or not a config dump)' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'is not an Envoy config dump: the JSON is not an object' };
  }
  if (!('configs' in json)) return { ok: true, value: { bare: json as Record<string, unknown> } };
  const parsed = ConfigDumpSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'is not an Envoy config dump: "configs" is not a list' };
  return { ok: true, value: { configs: parsed.data.configs ?? [] } };
}

export function typeOf(value: unknown): string | undefined {
  const parsed = TypedSchema.safeParse(value);
  return parsed.success ? parsed.data['@type'] : undefined;
}

// An empty `configs` is Envoy's answer when there is nothing of the kind; other sections alone are not.
export function noSection(configs: unknown[], section: string, what: string): { ok: false; reason: string } | undefined {
  if (configs.length === 0) return undefined;
  const types = [...new Set(configs.map((c) => typeOf(c)?.replace(TYPE_PREFIX, '') ?? '(untyped)'))];
  return { ok: false, reason: `holds no ${what}: no ${section} among its configs (${types.join(', ')})` };
}
