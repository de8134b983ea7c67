import type { InstanceInformation, Invocation } from './evidence-bundle.ts';
import type { MeshView, ProxyPresence, WorkloadEntry } from './mesh-view.ts';
import type { VmSnapshot } from './vm-snapshot.ts';

/** One audited VM with everything the audit knows of it, from both sides. */
export interface VmRecord {
  instanceId: string;
  inventory: InstanceInformation | undefined;
  invocation: Invocation | undefined;
  snapshot: VmSnapshot | undefined;
  hostname: string | undefined;
  /** `ISTIO_NAMESPACE` from cluster.env (POD_NAMESPACE as a fallback). */
  namespace: string | undefined;
  /** The address the mesh knows the VM by: Envoy's node id, else `ISTIO_SVC_IP`, else the first IP. */
  proxyIp: string | undefined;
  /** `ISTIO_META_NETWORK`, '' when unset (as in an auto-registered WorkloadEntry's spec.network). */
  network: string;
  /** `ISTIO_META_AUTO_REGISTER_GROUP`. */
  group: string | undefined;
  /** The proxy-status name: Envoy's node id name part, else `<hostname -s>.<ISTIO_NAMESPACE>`. */
  proxyName: string | undefined;
  /** Where istiod holds this proxy; empty when no replica does. */
  proxy: ProxyPresence[];
  /** WorkloadEntries with the VM's namespace, address and network. */
  workloadEntries: WorkloadEntry[];
  /** Reasons the join could not be made without guessing: another VM claims the same key. */
  ambiguities: string[];
}

/**
 * Joins VMs with the mesh:
 * - VM → proxy: by proxy-status name, `<hostname -s>.<ISTIO_NAMESPACE>` (the name istiod shows,
 *   Istio 1.24 `pilot/pkg/model` node metadata), or the name in the Envoy node id
 *   `sidecar~<ip>~<name>~<domain>` when the VM reported one;
 * - VM → WorkloadEntry: same namespace, `spec.address` equal to the proxy IP, `spec.network` equal to
 *   `ISTIO_META_NETWORK` (both empty counts as equal);
 * - VM → WorkloadGroup: `ISTIO_META_AUTO_REGISTER_GROUP` in the same namespace.
 * Two VMs claiming one proxy name or one (namespace, address, network) are recorded as ambiguities on
 * both, never resolved by picking one.
 */
export function joinFleet(
  inventory: InstanceInformation[],
  invocations: Record<string, Invocation>,
  snapshots: Map<string, VmSnapshot>,
  mesh: MeshView,
): VmRecord[] {
  const ids = [...new Set([...inventory.map((i) => i.InstanceId), ...Object.keys(invocations)])].sort();
  const records = ids.map((instanceId) => baseRecord(instanceId, inventory, invocations, snapshots.get(instanceId)));

  const byProxyName = groupBy(records, (r) => r.proxyName);
  const byAddress = groupBy(records, (r) => (r.namespace && r.proxyIp ? `${r.namespace}|${r.proxyIp}|${r.network}` : undefined));
  for (const record of records) {
    const sameName = record.proxyName ? byProxyName.get(record.proxyName) ?? [] : [];
    if (sameName.length > 1) {
      record.ambiguities.push(`proxy name ${record.proxyName} is claimed by ${sameName.map((r) => r.instanceId).join(', ')}`);
    }
    const key = record.namespace && record.proxyIp ? `${record.namespace}|${record.proxyIp}|${record.network}` : undefined;
    const sameAddress = key ? byAddress.get(key) ?? [] : [];
    if (sameAddress.length > 1) {
      record.ambiguities.push(`address ${record.proxyIp} in ${record.namespace} is claimed by ${sameAddress.map((r) => r.instanceId).join(', ')}`);
    }
    if (record.proxyName) record.proxy = mesh.proxies.get(record.proxyName) ?? [];
    if (key) {
      // The auto-registered entry first: it is the one istiod keeps in step with the VM's connection.
      record.workloadEntries = mesh.workloadEntries
        .filter((we) => we.metadata.namespace === record.namespace && we.spec.address === record.proxyIp && (we.spec.network ?? '') === record.network)
        .sort((a, b) => Number(isAutoRegistered(b)) - Number(isAutoRegistered(a)));
    }
  }
  return records;
}

function baseRecord(instanceId: string, inventory: InstanceInformation[], invocations: Record<string, Invocation>, snapshot: VmSnapshot | undefined): VmRecord {
  const env = snapshot?.clusterEnv.ok ? snapshot.clusterEnv.value : undefined;
  const identity = snapshot?.identity.ok ? snapshot.identity.value : undefined;
  const server = snapshot?.serverInfo.ok ? snapshot.serverInfo.value : undefined;
  const hostname = identity?.hostname;
  const namespace = env?.get('ISTIO_NAMESPACE') || env?.get('POD_NAMESPACE') || undefined;
  return {
    instanceId,
    inventory: inventory.find((i) => i.InstanceId === instanceId),
    invocation: invocations[instanceId],
    snapshot,
    hostname,
    namespace,
    proxyIp: server?.nodeIp ?? (env?.get('ISTIO_SVC_IP') || undefined) ?? identity?.ips[0],
    network: env?.get('ISTIO_META_NETWORK') ?? '',
    group: env?.get('ISTIO_META_AUTO_REGISTER_GROUP') || undefined,
    proxyName: server?.proxyName ?? (hostname && namespace ? `${hostname}.${namespace}` : undefined),
    proxy: [],
    workloadEntries: [],
    ambiguities: [],
  };
}

function isAutoRegistered(entry: WorkloadEntry): boolean {
  return entry.metadata.annotations?.['istio.io/autoRegistrationGroup'] !== undefined;
}

function groupBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = groups.get(k) ?? [];
    list.push(item);
    groups.set(k, list);
  }
  return groups;
}
