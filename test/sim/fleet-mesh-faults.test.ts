import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildMeshView, WorkloadEntrySchema, WorkloadGroupSchema, type WorkloadEntry } from '../../lib/core/mesh-view.ts';
import { proxySyncStatus } from '../../lib/core/proxy-status.ts';
import { mintWorkloadCertificate } from '../../sim/certificates.ts';
import { SIM_NACK_MESSAGE, simClusterEvidence } from '../../sim/cluster.ts';
import {
  buildSimFleet,
  buildSimFleetAsync,
  FLEET_FAULTS,
  hasWorkloadEntry,
  isConnected,
  SKEWED_ISTIO_VERSION,
  VM_FAULTS,
  type SimFleet,
  type SimVm,
  type VmFault,
} from '../../sim/fleet.ts';

const NOW = new Date('2026-11-26T06:00:00.000Z');
const LEGACY: VmFault[] = ['sidecar-stopped', 'sidecar-not-ready', 'istiod-disconnected', 'workload-entry-missing', 'ssm-undeliverable'];

function only(fleet: SimFleet, fault: VmFault): SimVm {
  const vms = fleet.vms.filter((vm) => vm.faults.includes(fault));
  expect(vms, fault).toHaveLength(1);
  return vms[0]!;
}

describe('the simulated fleet with mesh faults', () => {
  const fleet = buildSimFleet({ vms: 50, seed: 7, now: NOW });
  const cluster = simClusterEvidence(fleet);
  const view = buildMeshView(cluster);
  const entriesAt = (vm: SimVm): WorkloadEntry[] =>
    view.workloadEntries.filter((we) => we.metadata.namespace === vm.namespace && we.spec.address === vm.ip);
  const proxyOf = (vm: SimVm) => view.proxies.get(`${vm.hostname}.${vm.namespace}`)?.map((p) => proxySyncStatus(p.status));

  it('puts every VM fault on its own VM, one per 50 VMs, deterministically from the seed', () => {
    for (const fault of VM_FAULTS) only(fleet, fault);
    expect(fleet.vms.filter((vm) => vm.faults.length > 0)).toHaveLength(VM_FAULTS.length);
    expect(buildSimFleet({ vms: 50, seed: 7, now: NOW })).toEqual(fleet);
    expect(buildSimFleet({ vms: 100, seed: 7, now: NOW }).vms.filter((vm) => vm.faults.includes('xds-stale'))).toHaveLength(2);
  });

  it('leaves the original faults, the orphan entry and every VM where they were when the mesh faults are left out', () => {
    const legacy = buildSimFleet({ vms: 50, seed: 7, now: NOW, faults: [...LEGACY, 'orphan-workload-entry'] });
    for (const fault of LEGACY) expect(only(legacy, fault).instanceId).toBe(only(fleet, fault).instanceId);
    expect(legacy.orphanEntries).toEqual(fleet.orphanEntries);
    expect(legacy.unknownProxies).toEqual([]);
    expect(legacy.vms.map((vm) => vm.ip)).toEqual(fleet.vms.map((vm) => vm.ip));
    expect(() => buildSimFleet({ vms: 5, now: NOW, faults: ['no-such-fault' as VmFault] })).toThrow(
      /unknown simulated fault "no-such-fault"/,
    );
  });

  it('parses as a valid mesh: no invalid object, both replicas answered', () => {
    expect(view.invalid).toEqual([]);
    expect(view.istiods.map((i) => i.answered)).toEqual([true, true]);
    expect(cluster.workloadGroups!.items.every((g) => WorkloadGroupSchema.safeParse(g).success)).toBe(true);
    expect(cluster.workloadEntries!.items.every((e) => WorkloadEntrySchema.safeParse(e).success)).toBe(true);
  });

  it('xds-stale: EDS sent but not acknowledged', () => {
    const [status] = proxyOf(only(fleet, 'xds-stale'))!;
    expect(Object.fromEntries(Object.values(status!.types).map((t) => [t.type, t.state]))).toEqual({
      CDS: 'SYNCED',
      LDS: 'SYNCED',
      EDS: 'STALE',
      RDS: 'SYNCED',
      ECDS: 'IGNORED',
    });
  });

  it('xds-nack: LDS is ERROR with the NACK', () => {
    const [status] = proxyOf(only(fleet, 'xds-nack'))!;
    expect(status!.types.LDS).toMatchObject({ state: 'ERROR', lastError: SIM_NACK_MESSAGE });
    expect(status!.types.CDS.state).toBe('SYNCED');
  });

  it('healthy VMs are SYNCED on every type they watch and IGNORED on ECDS', () => {
    const healthy = fleet.vms.find((vm) => vm.faults.length === 0)!;
    expect(Object.values(proxyOf(healthy)![0]!.types).map((t) => t.state)).toEqual(['SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'IGNORED']);
  });

  it('version-skew: the VM and its syncz entry run 1.22 against istiod 1.24', () => {
    const vm = only(fleet, 'version-skew');
    expect(vm.istioVersion).toBe(SKEWED_ISTIO_VERSION);
    expect(proxyOf(vm)![0]!.version).toBe('1.22.8');
    expect(fleet.istioVersion).toBe('1.24.6');
  });

  it('duplicate-workload-entry: a hand-made entry shares the address and network of the auto-registered one', () => {
    const entries = entriesAt(only(fleet, 'duplicate-workload-entry'));
    const byKind = (e: (typeof entries)[number]) => [
      e.metadata.annotations?.['istio.io/autoRegistrationGroup'] ?? null,
      e.spec.network ?? '',
    ];
    expect(entries.map(byKind)).toEqual(
      expect.arrayContaining([
        [only(fleet, 'duplicate-workload-entry').group, ''],
        [null, ''],
      ]),
    );
    expect(entries).toHaveLength(2);
  });

  it('stale-connected-at: connectedAt is older than 45 minutes and there is no disconnectedAt', () => {
    const [entry] = entriesAt(only(fleet, 'stale-connected-at'));
    const annotations = entry!.metadata.annotations!;
    expect(NOW.getTime() - Date.parse(annotations['istio.io/connectedAt']!)).toBeGreaterThan(45 * 60_000);
    expect(annotations).not.toHaveProperty('istio.io/disconnectedAt');
    const others = view.workloadEntries.filter((we) => we !== entry && we.metadata.annotations?.['istio.io/connectedAt']);
    expect(others.every((we) => NOW.getTime() - Date.parse(we.metadata.annotations!['istio.io/connectedAt']!) < 45 * 60_000)).toBe(true);
  });

  it('workload-group-missing: the group does not exist, so istiod neither connects nor registers the VM', () => {
    const vm = only(fleet, 'workload-group-missing');
    expect(view.workloadGroups.some((g) => g.metadata.namespace === vm.namespace && g.metadata.name === vm.group)).toBe(false);
    expect(isConnected(vm) || hasWorkloadEntry(vm)).toBe(false);
    expect(entriesAt(vm)).toEqual([]);
    expect(proxyOf(vm)).toBeUndefined();
  });

  it('unhealthy-workload-entry: Healthy is False with a message, on an entry whose group has a probe', () => {
    const vm = only(fleet, 'unhealthy-workload-entry');
    const [entry] = entriesAt(vm);
    expect(entry!.status?.conditions).toEqual([
      expect.objectContaining({ type: 'Healthy', status: 'False', message: expect.stringContaining('connection refused') }),
    ]);
    expect(entry!.metadata.annotations?.['proxy.istio.io/health-checks-enabled']).toBe('true');
    expect(view.workloadGroups.find((g) => g.metadata.name === vm.group)?.spec.probe).toBeTruthy();
    // Auto-registered siblings only: a hand-made entry is not health-checked through the group.
    const siblings = view.workloadEntries.filter(
      (we) => we.metadata.namespace === vm.namespace && we !== entry && we.metadata.annotations?.['istio.io/autoRegistrationGroup'],
    );
    expect(siblings.every((we) => we.status?.conditions?.[0]?.status === 'True')).toBe(true);
    expect(view.workloadEntries.filter((we) => we.metadata.namespace !== vm.namespace).every((we) => we.status === undefined)).toBe(true);
  });

  it('unknown-proxy: connected to istiod in a VM namespace, but no VM of the inventory has its name', () => {
    expect(FLEET_FAULTS).toContain('unknown-proxy');
    const [unknown] = fleet.unknownProxies;
    expect(view.proxies.get(unknown!.name)?.map((p) => p.replica)).toEqual([unknown!.istiod]);
    expect(fleet.vms.some((vm) => `${vm.hostname}.${vm.namespace}` === unknown!.name || vm.ip === unknown!.ip)).toBe(false);
    expect(fleet.namespaces.map((n) => n.name)).toContain(unknown!.namespace);
  });

  it('has no root CA ConfigMaps without certificates', () => {
    expect(cluster.rootCa).toEqual({});
    expect(fleet.pki).toBeUndefined();
  });
});

describe('the simulated fleet with certificates', () => {
  it('root-ca-rotated: every namespace holds the current root, which is not the one the flagged VM trusts', async () => {
    const fleet = await buildSimFleetAsync({ vms: 50, seed: 7, now: NOW });
    const cluster = simClusterEvidence(fleet);
    expect(Object.keys(cluster.rootCa).sort()).toEqual(fleet.namespaces.map((n) => n.name).sort());
    for (const [ns, cm] of Object.entries(cluster.rootCa)) {
      expect(cm).toMatchObject({ metadata: { name: 'istio-ca-root-cert', namespace: ns }, data: { 'root-cert.pem': fleet.pki.root.pem } });
    }
    expect(fleet.vms.filter((vm) => vm.rootCaRotated).map((vm) => vm.faults)).toEqual([['root-ca-rotated']]);
    expect(fleet.pki.previousRoot.sha256Fingerprint).not.toBe(fleet.pki.root.sha256Fingerprint);
    const root = new X509Certificate(fleet.pki.root.pem);
    expect(root.ca).toBe(true);
    expect(root.subject).toBe('O=cluster.local');
    expect(root.fingerprint256.replaceAll(':', '').toLowerCase()).toBe(fleet.pki.root.sha256Fingerprint);
    expect(Date.parse(root.validTo) - NOW.getTime()).toBeGreaterThan(30 * 86_400_000);
  });

  it('mints 24 h workload certificates with the SPIFFE identity, signed by the given root', async () => {
    const fleet = await buildSimFleetAsync({ vms: 3, seed: 1, now: NOW });
    const vm = fleet.vms[0]!;
    const notBefore = new Date(NOW.getTime() - 3 * 3600_000);
    const leaf = await mintWorkloadCertificate(fleet.pki.root, {
      namespace: vm.namespace,
      serviceAccount: vm.serviceAccount,
      notBefore,
      serialNumber: '0badc0de',
    });
    const cert = new X509Certificate(leaf.certificatePem);
    expect(cert.subjectAltName).toBe(`URI:spiffe://cluster.local/ns/${vm.namespace}/sa/${vm.serviceAccount}`);
    expect(cert.verify(new X509Certificate(fleet.pki.root.pem).publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(fleet.pki.previousRoot.pem).publicKey)).toBe(false);
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(24 * 3600_000);
    expect(Date.parse(cert.validFrom)).toBe(notBefore.getTime());
    expect(leaf.chainPem).toContain(fleet.pki.root.pem.trim());
    expect(leaf.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});
