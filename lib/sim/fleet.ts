import { SeededRandom } from './random.ts';

/** The faults the simulator can inject into a VM. Each maps to the findings it must cause. */
export const VM_FAULTS = [
  'sidecar-stopped',
  'sidecar-not-ready',
  'istiod-disconnected',
  'workload-entry-missing',
  'ssm-undeliverable',
] as const;
export type VmFault = (typeof VM_FAULTS)[number];

export interface SimVm {
  instanceId: string;
  /** `hostname -s` */
  hostname: string;
  ip: string;
  namespace: string;
  /** WorkloadGroup the VM auto-registers into; undefined when it expects a hand-made WorkloadEntry. */
  group: string | undefined;
  serviceAccount: string;
  hybrid: boolean;
  istioVersion: string;
  /** The istiod replica holding its connection (when connected). */
  istiod: string;
  /** Seconds since the sidecar started (for systemd and Envoy uptimes). */
  uptimeSeconds: number;
  faults: VmFault[];
}

/** A WorkloadEntry whose machine is gone: it belongs to no VM of the inventory. */
export interface SimOrphanEntry {
  namespace: string;
  group: string;
  ip: string;
  istiod: string;
}

export interface SimFleet {
  seed: number;
  now: Date;
  istioVersion: string;
  istiods: string[];
  namespaces: Array<{ name: string; group: string; serviceAccount: string }>;
  vms: SimVm[];
  orphanEntries: SimOrphanEntry[];
}

export interface SimFleetOptions {
  vms?: number;
  seed?: number;
  now: Date;
}

export const DEFAULT_SIM_VMS = 50;
export const DEFAULT_SIM_SEED = 1;

const NAMESPACE_POOL = ['payments', 'inventory', 'billing', 'legacy-batch', 'ledger'];

/**
 * Builds a seeded simulated fleet: `vms` VMs (default 50) in 2–3 namespaces, 2 istiod replicas, and a
 * fault mix with at least one VM per fault (one per 50 VMs) plus one orphan WorkloadEntry.
 * The same seed and `now` always give the same fleet.
 */
export function buildSimFleet(options: SimFleetOptions): SimFleet {
  const count = options.vms ?? DEFAULT_SIM_VMS;
  if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new RangeError(`the simulated fleet size must be 1..100000, got ${count}`);
  const seed = options.seed ?? DEFAULT_SIM_SEED;
  const rnd = new SeededRandom(seed);
  const istioVersion = '1.24.6';
  const podHash = rnd.hex(9).replace(/^[0-9]/, 'c');
  const istiods = [`istiod-${podHash}-${rnd.hex(5)}`, `istiod-${podHash}-${rnd.hex(5)}`];
  const namespaces = rnd
    .shuffle(NAMESPACE_POOL)
    .slice(0, rnd.int(2, 3))
    .map((name) => ({ name, group: `${name}-vm`, serviceAccount: `${name}-vm` }));

  const usedIps = new Set<string>();
  const vms: SimVm[] = [];
  for (let i = 0; i < count; i++) {
    const ns = namespaces[i % namespaces.length]!;
    const hybrid = rnd.next() < 0.1;
    let ip: string;
    do ip = `10.${rnd.int(20, 23)}.${rnd.int(0, 255)}.${rnd.int(4, 250)}`;
    while (usedIps.has(ip));
    usedIps.add(ip);
    vms.push({
      instanceId: hybrid ? `mi-${rnd.hex(17)}` : `i-${rnd.hex(17)}`,
      hostname: hybrid ? `${ns.name}-dc1-${String(i + 1).padStart(3, '0')}` : `ip-${ip.replaceAll('.', '-')}`,
      ip,
      namespace: ns.name,
      group: ns.group,
      serviceAccount: ns.serviceAccount,
      hybrid,
      istioVersion,
      istiod: istiods[rnd.int(0, istiods.length - 1)]!,
      uptimeSeconds: rnd.int(3600, 30 * 86400),
      faults: [],
    });
  }

  // One VM per fault per 50 VMs, on distinct VMs, drawn with the same seed.
  const perFault = Math.max(1, Math.floor(count / DEFAULT_SIM_VMS));
  const order = rnd.shuffle(vms.map((_, i) => i));
  let next = 0;
  for (const fault of VM_FAULTS) {
    for (let k = 0; k < perFault && next < order.length; k++) vms[order[next++]!]!.faults.push(fault);
  }
  for (const vm of vms) if (vm.faults.includes('workload-entry-missing')) vm.group = undefined;

  const orphanNs = namespaces[0]!;
  let orphanIp: string;
  do orphanIp = `10.${rnd.int(20, 23)}.${rnd.int(0, 255)}.${rnd.int(4, 250)}`;
  while (usedIps.has(orphanIp));
  const orphanEntries: SimOrphanEntry[] = [{ namespace: orphanNs.name, group: orphanNs.group, ip: orphanIp, istiod: istiods[0]! }];

  return { seed, now: options.now, istioVersion, istiods, namespaces, vms, orphanEntries };
}

/** Whether the VM's sidecar holds a connection to istiod in the simulation. */
export function isConnected(vm: SimVm): boolean {
  return !vm.faults.includes('sidecar-stopped') && !vm.faults.includes('istiod-disconnected');
}

/** Whether istiod keeps an auto-registered WorkloadEntry for the VM (deleted 10 s after a disconnect). */
export function hasWorkloadEntry(vm: SimVm): boolean {
  return vm.group !== undefined && isConnected(vm);
}
