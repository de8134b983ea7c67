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
  /**
   * Where the VM's claims disagree with what the mesh and AWS know of it: the mesh holds "its" proxy or a live
   * entry while its own Envoy is down, or the proxy's address is not the one SSM knows. The joined evidence is
   * then not the VM's to pass on.
   */
  contradictions: Contradiction[];
}

/**
 * A claim the evidence contradicts. `state`: the VM's own Envoy is down yet the mesh holds it as connected.
 * `address`: the connected proxy's address is not the VM's address in SSM's inventory.
 */
export interface Contradiction {
  kind: 'state' | 'address';
  message: string;
}

/**
 * Joins VMs with the mesh. What a VM prints is a claim; the join is anchored on what the mesh and AWS know:
 * the proxies istiod holds (by proxy-status name), the WorkloadEntries, and SSM's inventory `IPAddress`.
 * - VM → proxy: by proxy-status name, `<hostname -s>.<ISTIO_NAMESPACE>` (the name istiod shows,
 *   Istio 1.24 `pilot/pkg/model` node metadata), or the name in the Envoy node id
 *   `sidecar~<ip>~<name>~<domain>` when the VM reported one;
 * - VM → WorkloadEntry: same namespace, `spec.address` equal to the proxy IP, `spec.network` equal to
 *   `ISTIO_META_NETWORK` (both empty counts as equal);
 * - VM → WorkloadGroup: `ISTIO_META_AUTO_REGISTER_GROUP` in the same namespace.
 * Two VMs claiming one proxy name or one (namespace, address, network) are recorded as ambiguities on
 * both, never resolved by picking one. A claim the VM's own state or SSM contradicts (see `contradictionsOf`)
 * is recorded as a contradiction: the joined proxy or entry is then no evidence for the VM, nor the VM for
 * it. Every lookup is keyed: the join costs O(N log N) in the fleet.
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
    const sameName = record.proxyName ? (byProxyName.get(record.proxyName) ?? []) : [];
    if (sameName.length > 1) {
      record.ambiguities.push(`proxy name ${record.proxyName} is claimed by ${describeClaimants(sameName)}`);
    }
    const key = addressKeyOf(record);
    const sameAddress = key ? (byAddress.get(key) ?? []) : [];
    if (sameAddress.length > 1) {
      record.ambiguities.push(`address ${record.proxyIp} in ${record.namespace} is claimed by ${describeClaimants(sameAddress)}`);
    }
    if (record.proxyName) record.proxy = mesh.proxies.get(record.proxyName) ?? [];
    if (key) record.workloadEntries = [...(entriesByAddress.get(key) ?? [])];
    record.contradictions = contradictionsOf(record);
  }
  return records;
}

/**
 * What contradicts the VM's claims, from its own evidence and SSM's:
 * - `state`: the mesh holds the claimed proxy as connected (some istiod's syncz), or a live auto-registered
 *   entry (`istio.io/connectedAt`, no `istio.io/disconnectedAt`) at the claimed address, while the VM's own
 *   output says no Envoy runs there: the istio unit is inactive, failed or absent, nothing answers on the
 *   agent's readiness port (refused) or Envoy's admin port, or Envoy's own stats say it holds no control-plane
 *   connection. A 503 from the readiness probe is no contradiction: Envoy is up, and a proxy whose update was
 *   rejected stays connected while not ready.
 * - `address`: the proxy istiod holds is at an address (the node id's, else the claimed one) other than the
 *   VM's `IPAddress` in SSM's inventory, even one `ISTIO_SVC_IP` pins: the pin is the VM's claim too.
 */
function contradictionsOf(record: VmRecord): Contradiction[] {
  const snapshot = record.snapshot;
  if (!snapshot?.readable) return [];
  const connected = record.proxy.length > 0;
  const liveEntries = record.workloadEntries.filter(isLiveAutoRegistered).map((we) => `${we.metadata.namespace}/${we.metadata.name}`);
  const contradictions: Contradiction[] = [];
  if (connected || liveEntries.length > 0) {
    const down = envoyDown(snapshot);
    if (down) {
      const held = [
        ...(connected ? [`istiod holds ${record.proxyName} as connected (${record.proxy.map((p) => p.replica).join(', ')})`] : []),
        ...(liveEntries.length > 0 ? [`${liveEntries.join(', ')} says its proxy is connected`] : []),
      ];
      contradictions.push({ kind: 'state', message: `${down}, yet ${held.join(' and ')}` });
    }
  }
  const ssmIp = record.inventory?.IPAddress;
  const server = snapshot.serverInfo.ok ? snapshot.serverInfo.value : undefined;
  const proxyIp = server?.nodeIp ?? record.proxyIp;
  // ISTIO_SVC_IP is the VM's word too: a pin to another address may be deliberate (REG-07 accepts it), but it
  // cannot show that the proxy istiod holds is this machine's.
  const pinned = snapshot.clusterEnv.ok ? snapshot.clusterEnv.value.get('ISTIO_SVC_IP') || undefined : undefined;
  if (connected && ssmIp && proxyIp && proxyIp !== ssmIp) {
    const pin = pinned === proxyIp ? ', the address ISTIO_SVC_IP pins' : '';
    contradictions.push({
      kind: 'address',
      message: `the proxy ${record.proxyName} is at ${proxyIp}${pin}, but SSM knows the VM at ${ssmIp}`,
    });
  }
  return contradictions;
}

/** Why the VM's own output says no Envoy of it can hold a connection, or undefined when it does not say so. */
function envoyDown(snapshot: VmSnapshot): string | undefined {
  const unit = snapshot.unit.ok ? snapshot.unit.value : undefined;
  if (unit?.notFound) return 'the VM has no istio unit';
  if (unit && (unit.activeState === 'inactive' || unit.activeState === 'failed'))
    return `its istio unit is ${unit.activeState} (${unit.subState})`;
  // curl exits 7 when nothing listens (the script's rc for the HTTP sections, docs/diagnostic-output.md).
  if (snapshot.readiness.ok && snapshot.readiness.value.outcome === 'refused') return "nothing answers on its agent's readiness port";
  if (
    snapshot.sections.get('envoy-server-info')?.rc === CONNECTION_REFUSED ||
    snapshot.sections.get('envoy-stats')?.rc === CONNECTION_REFUSED
  ) {
    return "nothing answers on its Envoy's admin port";
  }
  if (snapshot.stats.ok && snapshot.stats.value.get('control_plane.connected_state') === 0)
    return 'its Envoy reports no control-plane connection';
  return undefined;
}

const CONNECTION_REFUSED = 7;

/** An entry istiod auto-registered and holds as connected now: `connectedAt` set, no `disconnectedAt`. */
function isLiveAutoRegistered(entry: WorkloadEntry): boolean {
  const a = entry.metadata.annotations ?? {};
  return isAutoRegistered(entry) && a['istio.io/connectedAt'] !== undefined && a['istio.io/disconnectedAt'] === undefined;
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
  const names = records
    .slice(0, LISTED_CLAIMANTS)
    .map((r) => r.instanceId)
    .join(', ');
  return records.length > LISTED_CLAIMANTS ? `${names} and ${records.length - LISTED_CLAIMANTS} more` : names;
}

function baseRecord(
  instanceId: string,
  inventoryItem: InstanceInformation | undefined,
  invocation: Invocation | undefined,
  snapshot: VmSnapshot | undefined,
): VmRecord {
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
    contradictions: [],
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
