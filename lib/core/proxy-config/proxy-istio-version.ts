import { z } from 'zod';
import { readDump, typeOf, TYPE_PREFIX } from './dump-root.ts';

// envoy.admin.v3.BootstrapConfigDump: pilot-agent writes the proxy's Istio release into the node metadata.
const BOOTSTRAP_SECTION = `${TYPE_PREFIX}BootstrapConfigDump`;
const BootstrapSchema = z.object({
  bootstrap: z.object({ node: z.object({ metadata: z.object({ ISTIO_VERSION: z.string().min(1) }) }) }),
});

/**
 * The Istio release of the proxy that wrote a full config dump (`bootstrap.node.metadata.ISTIO_VERSION`),
 * undefined for a `?resource=` answer or a dump without it. A dump names no istiod: the proxy's release,
 * which istiod serves within its supported skew, is the nearest thing it holds. Never throws.
 */
export function proxyIstioVersionOf(text: string): string | undefined {
  const root = readDump(text, 'bootstrap');
  if (!root.ok || !root.value.configs) return undefined;
  const section = root.value.configs.find((c) => typeOf(c) === BOOTSTRAP_SECTION);
  return BootstrapSchema.safeParse(section).data?.bootstrap.node.metadata.ISTIO_VERSION;
}
