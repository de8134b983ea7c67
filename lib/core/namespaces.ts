import { parseVmSnapshot } from './vm-snapshot.ts';

/** The ISTIO_NAMESPACE a VM's diagnostic output names, if any (to scope the cluster reads). */
export function namespaceOfOutput(output: string): string | undefined {
  const env = parseVmSnapshot(output).clusterEnv;
  if (!env.ok) return undefined;
  const ns = env.value.get('ISTIO_NAMESPACE') || env.value.get('POD_NAMESPACE');
  return ns && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns) ? ns : undefined;
}
