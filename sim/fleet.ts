import { mintSimMeshPki, type SimKeyAlgorithm, type SimMeshPki } from './certificates.ts';
import { SeededRandom } from './random.ts';
import { mintVmCertificates, type SimVmCertificates } from './vm-certificates.ts';

/**
 * The faults the simulator can inject into a VM. Each maps to the findings it must cause. The order is
 * part of the seed contract: each fault owns a fixed slot of the shuffled VMs, so adding a fault at the
 * end, or leaving one out with `faults`, never moves the others.
 */
export const VM_FAULTS = [
  'sidecar-stopped',
  'sidecar-not-ready',
  'istiod-disconnected',
  'workload-entry-missing',
  'ssm-undeliverable',
  // Mesh faults: what istiod and Kubernetes say about the VM.
  /** EDS sent but not acknowledged: STALE. */
  'xds-stale',
  /** Envoy rejected the last LDS push: `lastError` holds the NACK, ERROR. */
  'xds-nack',
  /** The proxy runs Istio 1.22, two minors behind istiod 1.24 (SimVm.istioVersion says so). */
  'version-skew',
  /** A hand-made WorkloadEntry with the same address and network as the VM's auto-registered one. */
  'duplicate-workload-entry',
  /** The entry's `istio.io/connectedAt` is 3 h old with no `istio.io/disconnectedAt`: leaked. */
  'stale-connected-at',
  /** ISTIO_META_AUTO_REGISTER_GROUP names a WorkloadGroup that does not exist: istiod refuses the connection. */
  'workload-group-missing',
  /** The entry's `Healthy` condition is False with the probe's message (its group has a probe). */
  'unhealthy-workload-entry',
  /** The mesh root was rotated and the VM still trusts the previous root (SimVm.rootCaRotated). */
  'root-ca-rotated',
  /** The workload certificate is 20 h into its 24 h life: rotation (due at 12 h) is failing. Rendered by vm-certificates.ts. */
  'cert-rotation-stuck',
  // What the diagnostic script sees on the VM.
  /** The istio unit is running but disabled: it will not come back after a reboot. */
  'unit-disabled',
  /** The agent crashed and systemd restarted it 7 times; the current start is 2 min old. */
  'restart-loop',
  /** ISTIO_AGENT_FLAGS in cluster.env turns on debug logging. */
  'debug-logging',
  /** No traffic capture at all: istio-iptables never ran (or was flushed). */
  'capture-missing',
  /** The ISTIO_ chains are installed in both iptables-legacy and iptables-nft. */
  'capture-split',
  /** The owner rules name uid/gid 1337 (Kubernetes' proxy uid), not this VM's istio-proxy user. */
  'capture-wrong-uid',
  /** /etc/certs/key.pem is world-readable. */
  'key-world-readable',
  /** The VM clock is 5 minutes behind. */
  'clock-skew',
  /** The sidecar package was upgraded to 1.24.7 but the running proxy is still 1.24.6. */
  'upgrade-not-restarted',
  /** A cluster is stuck warming (its endpoints or secret never arrived). */
  'cluster-warming',
  /** openssl is not installed, so the script cannot tell whether key.pem matches the certificate. */
  'openssl-missing',
  /**
   * The VM is on another network than the pods, but istiod gives it the pods' addresses instead of the
   * east-west gateway's (istio/istio#42411): its connections fail and outlier detection ejects every
   * endpoint of its outbound clusters.
   */
  'other-network-endpoints',
  /**
   * ISTIO_METAJSON_LABELS gives the proxy `app=<group>-canary`, which istiod merges over the group's labels in
   * the auto-registered entry: no Service or ServiceEntry of the namespace selects it, so it gets no traffic.
   */
  'workload-entry-unselected',
  /**
   * CA_ADDR and discoveryAddress name istiod-1-22, a revision since uninstalled: no such Service, no pods. The
   * proxy still holds the connection it has (the simulation keeps it); its next one, or its next certificate, fails.
   */
  'istiod-revision-removed',
  /** /etc/hosts pins istiod.istio-system.svc to an address the east-west gateway no longer has (SIM_STALE_GATEWAY_IP). */
  'hosts-pin-stale',
] as const;
export type VmFault = (typeof VM_FAULTS)[number];

/** Faults of the fleet rather than of one VM. */
export const FLEET_FAULTS = [
  /** An auto-registered WorkloadEntry whose machine is in no inventory. */
  'orphan-workload-entry',
  /** A proxy connected to istiod in a VM namespace that belongs to no VM of the inventory. */
  'unknown-proxy',
] as const;
export type FleetFault = (typeof FLEET_FAULTS)[number];

export type SimFault = VmFault | FleetFault;
export const SIM_FAULTS: readonly SimFault[] = [...VM_FAULTS, ...FLEET_FAULTS];

/**
 * Layouts Istio supports besides the one `istioctl x workload entry configure` gives (docs/controls.md):
 * healthy VMs the audit must not call failing. One VM of each per fleet, on VMs that carry no fault.
 */
export const VM_CONFIGURATIONS = [
  /** ISTIO_INBOUND_PORTS and ISTIO_META_DNS_CAPTURE set in sidecar.env only, which istio-start.sh sources before cluster.env. */
  'sidecar-env',
  /** ISTIO_CUSTOM_IP_TABLES=true: the operator's own capture rules, which Istio does not install. */
  'custom-iptables',
  /** ISTIO_INBOUND_INTERCEPTION_MODE=TPROXY: inbound capture in the mangle table. */
  'tproxy',
  /** Istio's native nftables mode (1.27+): the rules are in the inet istio-proxy-* tables. */
  'native-nftables',
  /** OUTPUT_CERTS names another directory than /etc/certs for the on-disk certificates. */
  'output-certs',
] as const;
export type VmConfiguration = (typeof VM_CONFIGURATIONS)[number];

/** The Istio version of a VM with the `version-skew` fault. */
export const SKEWED_ISTIO_VERSION = '1.22.8';

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
  /** How Istio is set up on the VM, when not the default layout. */
  configuration?: VmConfiguration;
  /** The VM trusts the mesh's previous root (SimFleet.pki.previousRoot), not the one in istio-ca-root-cert. */
  rootCaRotated: boolean;
}

/** A WorkloadEntry whose machine is gone: it belongs to no VM of the inventory. */
export interface SimOrphanEntry {
  namespace: string;
  group: string;
  ip: string;
  istiod: string;
}

/** A proxy connected to istiod that no VM of the inventory accounts for. */
export interface SimUnknownProxy {
  /** The proxy-status name, `<hostname>.<namespace>`. */
  name: string;
  namespace: string;
  ip: string;
  istiod: string;
  istioVersion: string;
}

export interface SimNamespace {
  name: string;
  group: string;
  serviceAccount: string;
  /** The WorkloadGroup has a readiness probe, so istiod keeps a `Healthy` condition on its entries. */
  probe: boolean;
}

export interface SimFleet {
  seed: number;
  now: Date;
  istioVersion: string;
  istiods: string[];
  namespaces: SimNamespace[];
  vms: SimVm[];
  orphanEntries: SimOrphanEntry[];
  unknownProxies: SimUnknownProxy[];
  /** What istiod is run with (see SimFleetOptions). */
  istiodSettings: SimIstiodSettings;
  /** The mesh's roots; only set by buildSimFleetAsync (certificates need WebCrypto, which is async). */
  pki?: SimMeshPki;
  /** Each VM's certificates by instance id; only set by buildSimFleetAsync. */
  vmCertificates?: ReadonlyMap<string, SimVmCertificates>;
}

/** The istiod settings the audit must read rather than assume. */
export interface SimIstiodSettings {
  /** The root-of-trust ConfigMap; another name than istio-ca-root-cert is set with PILOT_CA_CERT_CONFIGMAP, as the Helm chart's global.trustBundleName does. */
  rootCaConfigMap: string;
  /** `--keepaliveMaxServerConnectionAge` of the discovery container, as the chart passes it; null leaves the flag out. */
  keepaliveMaxServerConnectionAge: string | null;
}

export interface SimFleetOptions {
  vms?: number;
  seed?: number;
  now: Date;
  /** The faults to inject; default every fault of SIM_FAULTS. */
  faults?: readonly SimFault[];
  /**
   * Ages the fleet: the fleet as it is on this day of a series of daily runs (0, 1, 2…). Each fault then
   * has a life of its own drawn from the seed: it appears on some day, persists, and is fixed some days
   * later (a few never are), always on the same VM. Without `day` every fault is present.
   */
  day?: number;
  /** istiod's settings; default istio-ca-root-cert and the chart's `30m`. */
  istiod?: Partial<SimIstiodSettings>;
}

/** Whether a fault is present on `day` of an aged fleet: a window [appears, appears + lasts) drawn from the seed and the fault. */
export function isFaultPresentOn(seed: number, fault: SimFault, day: number): boolean {
  const rnd = new SeededRandom(mixSeed(seed, SIM_FAULTS.indexOf(fault) + 1));
  const appears = rnd.int(-10, 24);
  // One fault in five is never fixed within the series; the others last from 1 to 14 days.
  const lasts = rnd.next() < 0.2 ? Number.POSITIVE_INFINITY : rnd.int(1, 14);
  return day >= appears && day < appears + lasts;
}

function mixSeed(seed: number, salt: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(salt, 0xc2b2ae35)) >>> 0;
}

export const DEFAULT_SIM_VMS = 50;
export const DEFAULT_SIM_SEED = 1;

const NAMESPACE_POOL = ['payments', 'inventory', 'billing', 'legacy-batch', 'ledger'];

/**
 * Builds a seeded simulated fleet: `vms` VMs (default 50) in 2–3 namespaces, 2 istiod replicas, and a
 * fault mix with one VM per VM fault per 50 VMs (while VMs last), one orphan WorkloadEntry and one
 * unknown proxy. The same seed, `now` and `faults` always give the same fleet; the mesh's certificates
 * need buildSimFleetAsync.
 */
export function buildSimFleet(options: SimFleetOptions): SimFleet {
  const count = options.vms ?? DEFAULT_SIM_VMS;
  if (!Number.isInteger(count) || count < 1 || count > 100_000)
    throw new RangeError(`the simulated fleet size must be 1..100000, got ${count}`);
  const requested = new Set<SimFault>(options.faults ?? SIM_FAULTS);
  for (const fault of requested) if (!SIM_FAULTS.includes(fault)) throw new RangeError(`unknown simulated fault ${JSON.stringify(fault)}`);
  const seed = options.seed ?? DEFAULT_SIM_SEED;
  const day = options.day;
  if (day !== undefined && (!Number.isInteger(day) || day < 0))
    throw new RangeError(`the simulated day must be a whole number from 0, got ${day}`);
  // Aging only switches faults on and off: every other draw stays the same from one day to the next.
  const enabled = new Set([...requested].filter((fault) => day === undefined || isFaultPresentOn(seed, fault, day)));
  const rnd = new SeededRandom(seed);
  const istioVersion = '1.24.6';
  const podHash = rnd.hex(9).replace(/^[0-9]/, 'c');
  const istiods = [`istiod-${podHash}-${rnd.hex(5)}`, `istiod-${podHash}-${rnd.hex(5)}`];
  const namespaces = rnd
    .shuffle(NAMESPACE_POOL)
    .slice(0, rnd.int(2, 3))
    .map((name): SimNamespace => ({ name, group: `${name}-vm`, serviceAccount: `${name}-vm`, probe: false }));

  const usedIps = new Set<string>();
  const vms: SimVm[] = [];
  for (let i = 0; i < count; i++) {
    const ns = namespaces[i % namespaces.length]!;
    const hybrid = rnd.next() < 0.1;
    const ip = freshIp(rnd, usedIps);
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
      rootCaRotated: false,
    });
  }

  // One VM per fault per 50 VMs, on distinct VMs, drawn with the same seed.
  const perFault = Math.max(1, Math.floor(count / DEFAULT_SIM_VMS));
  const order = rnd.shuffle(vms.map((_, i) => i));
  let next = 0;
  for (const fault of VM_FAULTS) {
    for (let k = 0; k < perFault && next < order.length; k++) {
      const vm = vms[order[next++]!]!;
      if (enabled.has(fault)) vm.faults.push(fault);
    }
  }
  // The slots after the faults' hold VMs no fault touches, whichever faults are enabled.
  for (const configuration of VM_CONFIGURATIONS) {
    if (next < order.length) vms[order[next++]!]!.configuration = configuration;
  }
  for (const vm of vms) {
    if (vm.faults.includes('workload-entry-missing')) vm.group = undefined;
    if (vm.faults.includes('workload-group-missing')) vm.group = `${vm.namespace}-vm-v2`;
    if (vm.faults.includes('version-skew')) vm.istioVersion = SKEWED_ISTIO_VERSION;
    if (vm.faults.includes('root-ca-rotated')) vm.rootCaRotated = true;
    if (vm.faults.includes('unhealthy-workload-entry')) namespaces.find((ns) => ns.name === vm.namespace)!.probe = true;
  }

  // Drawn even when the fault is off, so that turning it off changes nothing else.
  const orphanNs = namespaces[0]!;
  const orphanIp = freshIp(rnd, usedIps);
  usedIps.add(orphanIp);
  const orphanEntries: SimOrphanEntry[] = enabled.has('orphan-workload-entry')
    ? [{ namespace: orphanNs.name, group: orphanNs.group, ip: orphanIp, istiod: istiods[0]! }]
    : [];
  const unknownNs = namespaces[namespaces.length - 1]!;
  const unknownIp = freshIp(rnd, usedIps);
  usedIps.add(unknownIp);
  const unknownProxies: SimUnknownProxy[] = enabled.has('unknown-proxy')
    ? [
        {
          name: `ip-${unknownIp.replaceAll('.', '-')}.${unknownNs.name}`,
          namespace: unknownNs.name,
          ip: unknownIp,
          istiod: istiods[istiods.length - 1]!,
          istioVersion,
        },
      ]
    : [];

  const istiodSettings: SimIstiodSettings = {
    rootCaConfigMap: options.istiod?.rootCaConfigMap ?? 'istio-ca-root-cert',
    keepaliveMaxServerConnectionAge:
      options.istiod?.keepaliveMaxServerConnectionAge === undefined ? '30m' : options.istiod.keepaliveMaxServerConnectionAge,
  };
  return { seed, now: options.now, istioVersion, istiods, namespaces, vms, orphanEntries, unknownProxies, istiodSettings };
}

/** buildSimFleet plus the mesh's root certificates (SimFleet.pki), which WebCrypto mints asynchronously. */
export async function buildSimFleetAsync(
  options: SimFleetOptions & { keyAlgorithm?: SimKeyAlgorithm },
): Promise<SimFleet & { pki: SimMeshPki }> {
  const fleet = buildSimFleet(options);
  const pki = await mintSimMeshPki({
    seed: fleet.seed,
    now: fleet.now,
    ...(options.keyAlgorithm ? { algorithm: options.keyAlgorithm } : {}),
  });
  const withPki = { ...fleet, pki };
  return { ...withPki, vmCertificates: await mintVmCertificates(withPki) };
}

function freshIp(rnd: SeededRandom, used: ReadonlySet<string>): string {
  for (let attempt = 0; attempt < 1_000_000; attempt++) {
    const ip = `10.${rnd.int(20, 23)}.${rnd.int(0, 255)}.${rnd.int(4, 250)}`;
    if (!used.has(ip)) return ip;
  }
  throw new RangeError('the simulated address space is exhausted');
}

/** Whether the VM's sidecar holds a connection to istiod in the simulation. */
export function isConnected(vm: SimVm): boolean {
  // istiod 1.24 fails the connection when auto-registration cannot find the WorkloadGroup.
  return (
    !vm.faults.includes('sidecar-stopped') && !vm.faults.includes('istiod-disconnected') && !vm.faults.includes('workload-group-missing')
  );
}

/** Whether istiod keeps an auto-registered WorkloadEntry for the VM (deleted 10 s after a disconnect). */
export function hasWorkloadEntry(vm: SimVm): boolean {
  return vm.group !== undefined && isConnected(vm);
}

/** The service the VM's workload is: its WorkloadGroup's name, or its hostname when it has none (a hand-registered VM). */
export function vmServiceName(vm: SimVm): string {
  return vm.group ?? vm.hostname;
}

/**
 * The labels the VM's proxy gives itself (ISTIO_METAJSON_LABELS), which istiod merges over its group's in the
 * auto-registered entry: only a `workload-entry-unselected` VM sets any.
 */
export function vmProxyLabels(vm: SimVm): { app: string; 'service.istio.io/canonical-name': string } | undefined {
  if (!vm.faults.includes('workload-entry-unselected')) return undefined;
  return { app: `${vmServiceName(vm)}-canary`, 'service.istio.io/canonical-name': vmServiceName(vm) };
}
