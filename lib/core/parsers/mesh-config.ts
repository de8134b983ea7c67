import { CORE_SCHEMA, load } from 'js-yaml';
import { z } from 'zod';
import type { Evidence } from '../result.ts';

/** What the audit reads of the VM's mesh config (/etc/istio/config/mesh, a MeshConfig with its `defaultConfig`). */
export interface VmMeshConfig {
  /** `defaultConfig.discoveryAddress`, the istiod the agent connects to; undefined when the file does not set it. */
  discoveryAddress: string | undefined;
}

/** What an empty or absent mesh config gives: nothing set, the agent's defaults apply. */
export const EMPTY_MESH_CONFIG: Readonly<VmMeshConfig> = Object.freeze({ discoveryAddress: undefined });

const MeshConfigSchema = z.looseObject({
  defaultConfig: z.looseObject({ discoveryAddress: z.string().optional() }).nullish(),
});

/**
 * Parses the `mesh-config` section (YAML, as `istioctl x workload entry configure` writes mesh.yaml). The
 * section is redacted by name, which keeps it YAML. The core schema builds plain data only (no custom tag
 * runs code) and the section is at most 16 KiB; a file that is not YAML, or not a mapping, is unreadable.
 * An empty file sets nothing. Never throws.
 */
export function parseMeshConfig(text: string): Evidence<VmMeshConfig> {
  // js-yaml refuses an empty source; an empty mesh config is a valid one that sets nothing.
  if (text.trim() === '') return { ok: true, value: EMPTY_MESH_CONFIG };
  let document: unknown;
  try {
    document = load(text, { schema: CORE_SCHEMA, json: true, maxDepth: 20 });
  } catch (error) {
    const line = (error as { mark?: { line?: number } }).mark?.line;
    return { ok: false, reason: `not YAML${typeof line === 'number' ? ` (line ${line + 1})` : ''}` };
  }
  if (document === undefined || document === null) return { ok: true, value: EMPTY_MESH_CONFIG };
  const parsed = MeshConfigSchema.safeParse(document);
  if (!parsed.success) return { ok: false, reason: 'not a mesh config (a mapping whose defaultConfig.discoveryAddress is a string)' };
  const address = parsed.data.defaultConfig?.discoveryAddress?.trim();
  return { ok: true, value: { discoveryAddress: address ? address : undefined } };
}
