import { z } from 'zod';
import type { Evidence } from '../result.ts';
import { goTabwriter } from '../render/go-tabwriter.ts';
import { sanitizeForTerminal } from '../render/text.ts';
import { compareGoStrings } from './go-string-order.ts';
import { noSection, readDump, typeOf, TYPE_PREFIX } from './dump-root.ts';

// envoy.admin.v3.EcdsConfigDump: the filters Envoy received by extension config discovery (Istio's WasmPlugins
// and Telemetry stats filters). A dump may hold several; istioctl merges their entries.
const ECDS_SECTION = `${TYPE_PREFIX}EcdsConfigDump`;
const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** One ECDS filter: an envoy.config.core.v3.TypedExtensionConfig. */
export interface EcdsFilterEntry {
  name: string;
  /** The type URL of its typed_config, '' when it has none. */
  typeUrl: string;
}

/** The merged EcdsConfigDump message and its filters. */
export interface EcdsDump {
  filters: EcdsFilterEntry[];
  /** The EcdsConfigDump `-o json|yaml` prints: every section's entries in one. */
  message: { ecds_filters: unknown[] };
}

const EcdsSectionSchema = z.object({ ecds_filters: z.array(z.unknown()).optional() });
const EcdsFilterSchema = z.object({
  ecds_filter: z.object({ name: z.string().optional(), typed_config: z.object({ '@type': z.string().optional() }).optional() }),
});

/** Reads the ECDS filters of an Envoy config dump. Never throws. */
export function parseEcdsDump(text: string): Evidence<EcdsDump> {
  const root = readDump(text, 'ECDS filters');
  if (!root.ok) return root;
  const { configs } = root.value;
  if (!configs) return { ok: false, reason: 'is not an Envoy config dump: it has no "configs" list' };
  const sections = configs.filter((c) => typeOf(c) === ECDS_SECTION);
  if (sections.length === 0) return noSection(configs, 'EcdsConfigDump', 'ECDS filters') ?? { ok: false, reason: 'holds no ECDS filters' };
  const entries = sections.flatMap((s) => EcdsSectionSchema.catch({}).parse(s).ecds_filters ?? []);
  const filters = entries.flatMap((entry): EcdsFilterEntry[] => {
    const parsed = EcdsFilterSchema.safeParse(entry);
    if (!parsed.success) return [];
    const { name, typed_config: typed } = parsed.data.ecds_filter;
    return [{ name: name ?? '', typeUrl: typed?.['@type'] ?? '' }];
  });
  return { ok: true, value: { filters, message: { ecds_filters: entries } } };
}

/** `istioctl proxy-config ecds` (1.24–1.29): `ECDS NAME TYPE`, sorted by type URL, then name. */
export function renderEcdsTable(filters: EcdsFilterEntry[]): string {
  const sorted = [...filters].sort((a, b) => compareGoStrings(a.typeUrl, b.typeUrl) || compareGoStrings(a.name, b.name));
  let text = 'ECDS NAME\tTYPE\n';
  for (const f of sorted) {
    const type = f.typeUrl.startsWith(TYPE_URL_PREFIX) ? f.typeUrl.slice(TYPE_URL_PREFIX.length) : f.typeUrl;
    text += `${[f.name, type].map(sanitizeForTerminal).join('\t')}\n`;
  }
  return goTabwriter(text, { minwidth: 0, padding: 5 });
}
