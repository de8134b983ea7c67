import type { CollectedVm } from './collected-vm.ts';
import type { InstanceInformation, Invocation } from './evidence-bundle.ts';
import type { MeshView, ProxyPresence, WorkloadEntry } from './mesh-view.ts';
import type { VmSnapshot } from './vm-snapshot.ts';
import { appendTo } from './multimap.ts';

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
 * both, never resolved by picking one. Every lookup is keyed: the join costs O(N log N) in the fleet.
 */
export function joinFleet(inventory: InstanceInformation[], collected: ReadonlyMap<string, CollectedVm>, mesh: MeshView): VmRecord[] {
  const inventoryById = new Map<string, InstanceInformation>();
  for (const item of inventory) if (!inventoryById.has(item.InstanceId)) inventoryById.set(item.InstanceId, item);
  const ids = [...new Set([...inventoryById.keys(), ...collected.keys()])].sort();
  const records = ids.map((instanceId) => {
    const vm = collected.get(instanceId);
    return baseRecord(instanceId, inventoryById.get(instanceId), vm?.invocation, vm?.snapshot);
  });

  const byProxyName = groupBy(records, (r) => r.proxyName);
  const byAddress = groupBy(records, addressKeyOf);
  // The auto-registered entry first: it is the one istiod keeps in step with the VM's connection.
  const entriesByAddress = groupBy(mesh.workloadEntries, (we) => joinKey(we.metadata.namespace, we.spec.address, we.spec.network ?? ''));
  for (const entries of entriesByAddress.values()) entries.sort((a, b) => Number(isAutoRegistered(b)) - Number(isAutoRegistered(a)));
  for (const record of records) {
    const sameName = record.proxyName ? byProxyName.get(record.proxyName) ?? [] : [];
    if (sameName.length > 1) {
      record.ambiguities.push(`proxy name ${record.proxyName} is claimed by ${describeClaimants(sameName)}`);
    }
    const key = addressKeyOf(record);
    const sameAddress = key ? byAddress.get(key) ?? [] : [];
    if (sameAddress.length > 1) {
      record.ambiguities.push(`address ${record.proxyIp} in ${record.namespace} is claimed by ${describeClaimants(sameAddress)}`);
    }
    if (record.proxyName) record.proxy = mesh.proxies.get(record.proxyName) ?? [];
    if (key) record.workloadEntries = [...(entriesByAddress.get(key) ?? [])];
  }
  return records;
}

/** The (namespace, address, network) a VM is registered by, or undefined when it did not say enough. */
function addressKeyOf(record: VmRecord): string | undefined {
  return record.namespace && record.proxyIp ? joinKey(record.namespace, record.proxyIp, record.network) : undefined;
}

/** The key a VM and a WorkloadEntry are joined by: namespace, address and network ('' when unset). */
export function joinKey(namespace: string, address: string, network: string): string {
  return JSON.stringify([namespace, address, network]);
}

/** Who claims one key: named up to a few, then counted, so many VMs claiming one name cost a line each, not the fleet. */
const LISTED_CLAIMANTS = 5;
function describeClaimants(records: VmRecord[]): string {
  const names = records.slice(0, LISTED_CLAIMANTS).map((r) => r.instanceId).join(', ');
  return records.length > LISTED_CLAIMANTS ? `${names} and ${records.length - LISTED_CLAIMANTS} more` : names;
}

function baseRecord(instanceId: string, inventoryItem: InstanceInformation | undefined, invocation: Invocation | undefined, snapshot: VmSnapshot | undefined): VmRecord {
  const env = snapshot?.clusterEnv.ok ? snapshot.clusterEnv.value : undefined;
  const identity = snapshot?.identity.ok ? snapshot.identity.value : undefined;
  const server = snapshot?.serverInfo.ok ? snapshot.serverInfo.value : undefined;
  const hostname = identity?.hostname;
  const namespace = env?.get('ISTIO_NAMESPACE') || env?.get('POD_NAMESPACE') || undefined;
  return {
    instanceId,
    inventory: inventoryItem,
    invocation,
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
    if (k !== undefined) appendTo(groups, k, item);
  }
  return groups;
}
