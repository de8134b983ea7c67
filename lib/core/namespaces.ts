import { splitDiagnosticOutput, type Section } from './diagnostic-output.ts';
import { effectiveEnvironment } from './effective-environment.ts';
import { parseClusterEnv } from './parsers/key-value.ts';

/**
 * The ISTIO_NAMESPACE a VM's diagnostic output names, if any (to scope the cluster reads), in the
 * environment istio-start.sh builds (sidecar.env under cluster.env). Reads only those two sections: the
 * full parse, certificates and all, is the analysis's job, done once.
 */
export function namespaceOfOutput(output: string): string | undefined {
  const { sections } = splitDiagnosticOutput(output);
  const cluster = whole(sections.get('cluster-env'));
  if (!cluster) return undefined;
  const env = effectiveEnvironment(whole(sections.get('sidecar-env')) ?? new Map(), cluster);
  const ns = env.get('ISTIO_NAMESPACE') || env.get('POD_NAMESPACE');
  return ns && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns) ? ns : undefined;
}

/** A section's variables when it was read whole; an absent or cut file names no namespace of its own. */
function whole(section: Section | undefined): Map<string, string> | undefined {
  return section && !section.cut && section.rc === 0 ? parseClusterEnv(section.content) : undefined;
}
