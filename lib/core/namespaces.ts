import { splitDiagnosticOutput } from './diagnostic-output.ts';
import { parseClusterEnv } from './parsers/key-value.ts';

/**
 * The ISTIO_NAMESPACE a VM's diagnostic output names, if any (to scope the cluster reads). Reads only the
 * cluster-env section: the full parse, certificates and all, is the analysis's job, done once.
 */
export function namespaceOfOutput(output: string): string | undefined {
  const section = splitDiagnosticOutput(output).sections.get('cluster-env');
  if (!section || section.cut || section.rc !== 0) return undefined;
  const env = parseClusterEnv(section.content);
  const ns = env.get('ISTIO_NAMESPACE') || env.get('POD_NAMESPACE');
  return ns && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns) ? ns : undefined;
}
