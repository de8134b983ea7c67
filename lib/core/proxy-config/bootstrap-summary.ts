import { z } from 'zod';
import { goTabwriter } from '../render/go-tabwriter.ts';
import { sanitizeForTerminal } from '../render/text.ts';
import type { Evidence } from '../result.ts';
import { readDump, typeOf, TYPE_PREFIX } from './dump-root.ts';

const BOOTSTRAP_SECTION = `${TYPE_PREFIX}BootstrapConfigDump`;

const NodeSchema = z.object({
  metadata: z.record(z.string(), z.unknown()).optional(),
  user_agent_build_version: z
    .object({
      version: z
        .object({ major_number: z.number().optional(), minor_number: z.number().optional(), patch: z.number().optional() })
        .optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
const BootstrapSectionSchema = z.object({ bootstrap: z.object({ node: NodeSchema.optional() }).optional() });

/** What `istioctl proxy-config bootstrap`'s summary says of the proxy. */
export interface BootstrapSummary {
  istioVersion: string;
  istioProxySha: string;
  envoyVersion: string;
}

/** Reads the versions in the bootstrap of a full config dump. Never throws. */
export function parseBootstrapSummary(text: string): Evidence<BootstrapSummary> {
  const root = readDump(text, 'bootstrap');
  if (!root.ok) return root;
  if (!root.value.configs) return { ok: false, reason: 'is not a full Envoy config dump: it has no "configs" list' };
  const section = root.value.configs.find((c) => typeOf(c) === BOOTSTRAP_SECTION);
  if (section === undefined) return { ok: false, reason: 'holds no BootstrapConfigDump' };
  const parsed = BootstrapSectionSchema.safeParse(section);
  if (!parsed.success) return { ok: false, reason: 'has a BootstrapConfigDump without the expected shape' };
  const node = parsed.data.bootstrap?.node;
  const metadata = node?.metadata ?? {};
  // A Struct value that is not a string reads as '' (protobuf's GetStringValue).
  const text_ = (value: unknown): string => (typeof value === 'string' ? value : '');
  const sha = text_(metadata.ISTIO_PROXY_SHA);
  const shaParts = sha.split(':');
  const build = node?.user_agent_build_version;
  const v = build?.version;
  const md = build?.metadata ?? {};
  let envoyVersion = `${v?.major_number ?? 0}.${v?.minor_number ?? 0}.${v?.patch ?? 0}`;
  if ('build.label' in md) envoyVersion += `-${text_(md['build.label'])}`;
  if ('revision.status' in md) envoyVersion += `/${text_(md['revision.status'])}`;
  if ('build.type' in md) envoyVersion += `/${text_(md['build.type'])}`;
  if ('ssl.version' in md) envoyVersion += `/${text_(md['ssl.version'])}`;
  return {
    ok: true,
    value: { istioVersion: text_(metadata.ISTIO_VERSION), istioProxySha: shaParts.length > 1 ? shaParts[1]! : sha, envoyVersion },
  };
}

/** The BootstrapConfigDump section of a full config dump as Envoy wrote it, undefined without one. Never throws. */
export function bootstrapSectionOf(text: string): unknown {
  const root = readDump(text, 'bootstrap');
  return root.ok ? root.value.configs?.find((c) => typeOf(c) === BOOTSTRAP_SECTION) : undefined;
}

/** `istioctl proxy-config bootstrap`'s summary lines (1.24–1.29), the empty ones left out. */
export function renderBootstrapSummary(summary: BootstrapSummary): string {
  const lines: Array<[string, string]> = [
    ['Istio Version:', summary.istioVersion],
    ['Istio Proxy Version:', summary.istioProxySha],
    ['Envoy Version:', summary.envoyVersion],
  ];
  const text = lines
    .filter(([, value]) => value !== '')
    .map(([label, value]) => `${label}\t${sanitizeForTerminal(value)}\n`)
    .join('');
  return goTabwriter(text, { minwidth: 0, padding: 1 });
}
