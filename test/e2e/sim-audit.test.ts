import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactWriter, LocalAuditStore, LocalBundle } from '../../lib/adapters/local-audit-store.ts';
import { CONTROLS } from '../../lib/core/controls/catalogue.ts';
import type { FindingStatus, Report } from '../../lib/core/report.ts';
import { buildSimFleetAsync, VM_CONFIGURATIONS, type SimFleet } from '../../sim/fleet.ts';
import { SimFleetRunner, SimMeshReader } from '../../sim/sim-sources.ts';
import { analyzeStoredBundle } from '../../lib/use-cases/analyze-bundle.ts';
import { runAudit, type RunAuditResult } from '../../lib/use-cases/run-audit.ts';

const NOW = new Date('2026-11-26T06:00:00.000Z');

/**
 * What each injected fault must make the audit say about its VM: the FAIL and ERROR findings (SKIP is
 * "does not apply", never something a fault causes). Every other VM control PASSes.
 */
const EXPECTED_BY_FAULT: Record<string, Record<string, FindingStatus>> = {
  'sidecar-stopped': {
    'HEALTH-01': 'FAIL',
    'HEALTH-03': 'FAIL',
    'HEALTH-05': 'FAIL',
    'XDS-01': 'FAIL',
    'XDS-04': 'ERROR',
    'XDS-06': 'ERROR',
    'CFG-01': 'ERROR',
    'REG-01': 'FAIL',
    // Envoy is down: what it serves (the default certificate, ROOTCA) cannot be compared.
    'CERT-01': 'ERROR',
    'CERT-02': 'ERROR',
    'CERT-04': 'ERROR',
  },
  'sidecar-not-ready': { 'HEALTH-03': 'FAIL', 'HEALTH-05': 'FAIL', 'LOGS-01': 'FAIL' },
  'istiod-disconnected': { 'HEALTH-05': 'FAIL', 'LOGS-01': 'FAIL', 'XDS-01': 'FAIL', 'REG-01': 'FAIL' },
  'workload-entry-missing': { 'REG-01': 'FAIL' },
  // Nothing can be said of a VM SSM could not reach but that it was not reached.
  'ssm-undeliverable': Object.fromEntries(
    CONTROLS.filter((c) => c.subject === 'vm').map((c) => [c.id, c.id === 'COLLECT-01' || c.id === 'COLLECT-02' ? 'FAIL' : 'ERROR']),
  ),
  'xds-stale': { 'XDS-02': 'FAIL' },
  'xds-nack': { 'XDS-02': 'FAIL' },
  'version-skew': { 'XDS-03': 'FAIL' },
  'duplicate-workload-entry': {},
  'stale-connected-at': {},
  'workload-group-missing': { 'HEALTH-05': 'FAIL', 'LOGS-01': 'FAIL', 'XDS-01': 'FAIL', 'REG-01': 'FAIL', 'REG-05': 'FAIL' },
  'unhealthy-workload-entry': { 'REG-06': 'FAIL' },
  'root-ca-rotated': { 'CERT-02': 'FAIL' },
  'cert-rotation-stuck': { 'CERT-01': 'FAIL' },
  'unit-disabled': { 'HEALTH-02': 'FAIL' },
  'restart-loop': { 'HEALTH-04': 'FAIL' },
  'debug-logging': { 'LOGS-02': 'FAIL' },
  'capture-missing': { 'NET-01': 'FAIL', 'NET-02': 'FAIL', 'NET-04': 'FAIL', 'NET-05': 'FAIL' },
  'capture-split': { 'NET-03': 'FAIL' },
  'capture-wrong-uid': { 'NET-05': 'FAIL' },
  'key-world-readable': { 'CERT-04': 'FAIL' },
  'clock-skew': { 'CERT-05': 'FAIL' },
  'upgrade-not-restarted': { 'XDS-04': 'FAIL' },
  'cluster-warming': { 'CFG-01': 'FAIL' },
  'openssl-missing': { 'COLLECT-03': 'FAIL' },
  'other-network-endpoints': { 'XDS-06': 'FAIL' },
  // REG-08 speaks of the entry, not of the VM (see the WorkloadEntry findings below).
  'workload-entry-unselected': {},
  'istiod-revision-removed': { 'CFG-02': 'FAIL' },
  'hosts-pin-stale': { 'CFG-02': 'FAIL' },
};

describe('an audit of the simulated fleet', () => {
  let dir: string;
  let fleet: SimFleet;
  let result: RunAuditResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-e2e-'));
    fleet = await buildSimFleetAsync({ vms: 50, seed: 7, now: NOW });
    result = await runAudit(
      {
        fleet: new SimFleetRunner(fleet),
        mesh: new SimMeshReader(fleet),
        store: new LocalAuditStore(join(dir, 'store')),
        clock: () => NOW,
      },
      { runId: 'e2e', source: 'sim', toolVersion: 'test' },
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds exactly what each injected fault must cause, and PASS everywhere else', () => {
    const report = result.report;
    for (const vm of fleet.vms) {
      const expected: Record<string, FindingStatus> = {};
      for (const fault of vm.faults) {
        expect(EXPECTED_BY_FAULT, `no expectation written for fault ${fault}`).toHaveProperty([fault]);
        Object.assign(expected, EXPECTED_BY_FAULT[fault]);
      }
      const actual = Object.fromEntries(
        report.findings
          .filter((f) => f.subject.kind === 'vm' && f.subject.id === vm.instanceId && (f.status === 'FAIL' || f.status === 'ERROR'))
          .map((f) => [f.control, f.status]),
      );
      expect(actual, `${vm.instanceId} with faults [${vm.faults.join(', ')}]`).toEqual(expected);
    }
  });

  it('has one VM per fault in a 50-VM fleet, and the rest compliant', () => {
    const faulty = fleet.vms.filter((vm) => vm.faults.length > 0);
    expect(new Set(faulty.flatMap((vm) => vm.faults))).toEqual(new Set(Object.keys(EXPECTED_BY_FAULT)));
    expect(result.report.summary.vms).toBe(50);
    const silentAtVmLevel = faulty.filter((vm) => vm.faults.every((f) => Object.keys(EXPECTED_BY_FAULT[f]!).length === 0));
    expect(result.report.summary.compliant).toBe(50 - faulty.length + silentAtVmLevel.length);
    const unknown = result.report.vms.filter((v) => v.status === 'UNKNOWN').map((v) => v.instanceId);
    expect(unknown).toEqual(
      fleet.vms
        .filter((vm) => vm.faults.includes('ssm-undeliverable'))
        .map((vm) => vm.instanceId)
        .sort(),
    );
  });

  it('has one VM of each layout Istio supports, each compliant, with nothing failing', () => {
    const configured = fleet.vms.filter((vm) => vm.configuration !== undefined);
    expect(configured.map((vm) => vm.configuration).sort()).toEqual([...VM_CONFIGURATIONS].sort());
    for (const vm of configured) {
      expect(vm.faults, vm.configuration).toEqual([]);
      expect(result.report.vms.find((v) => v.instanceId === vm.instanceId)?.status, vm.configuration).toBe('COMPLIANT');
    }
  });

  it('finds exactly the faulty WorkloadEntries, proxies and replicas', () => {
    const failing = (control: string) =>
      result.report.findings
        .filter((f) => f.control === control && f.status !== 'PASS' && f.status !== 'SKIP')
        .map((f) => `${f.status} ${f.subject.id}`);
    const vmWith = (fault: string) => fleet.vms.filter((vm) => vm.faults.includes(fault as never));
    const entryOf = (vm: SimFleet['vms'][number]) => `${vm.namespace}/${vm.group}-${vm.ip}`;
    const undeliverable = vmWith('ssm-undeliverable');
    expect(failing('REG-02')).toEqual(
      [
        ...undeliverable.map((vm) => `ERROR ${entryOf(vm)}`),
        ...fleet.orphanEntries.map((o) => `FAIL ${o.namespace}/${o.group}-${o.ip}`),
      ].sort(byId),
    );
    expect(failing('REG-03')).toEqual(vmWith('stale-connected-at').map((vm) => `FAIL ${entryOf(vm)}`));
    expect(failing('REG-04')).toEqual(
      vmWith('duplicate-workload-entry')
        .flatMap((vm) => [`FAIL ${vm.namespace}/${vm.hostname}-manual`, `FAIL ${entryOf(vm)}`])
        .sort(byId),
    );
    expect(failing('XDS-05')).toEqual(
      [...fleet.unknownProxies.map((p) => `FAIL ${p.name}`), ...undeliverable.map((vm) => `ERROR ${vm.hostname}.${vm.namespace}`)].sort(
        byId,
      ),
    );
    // Every other entry is selected: by its namespace's Service, or by the ServiceEntry of the first namespace.
    expect(failing('REG-08')).toEqual(vmWith('workload-entry-unselected').map((vm) => `FAIL ${entryOf(vm)}`));
    const reg08 = result.report.findings.filter((f) => f.control === 'REG-08');
    expect(new Set(reg08.filter((f) => f.status === 'PASS').map((f) => f.message.replace(/ [^ ]+$/, '')))).toEqual(
      new Set(['selected by Service', 'selected by ServiceEntry']),
    );
    expect(result.report.findings.find((f) => f.control === 'FLEET-01')?.status).toBe('PASS');
  });

  it('names the clusters whose pod endpoints a VM on another network cannot reach, and only those (XDS-06)', () => {
    const xds06 = (vm: SimFleet['vms'][number]) =>
      result.report.findings.find((f) => f.control === 'XDS-06' && f.subject.id === vm.instanceId);
    const faulty = fleet.vms.find((vm) => vm.faults.includes('other-network-endpoints'))!;
    expect(xds06(faulty)).toMatchObject({
      status: 'FAIL',
      severity: 'HIGH',
      message:
        '3 of 4 outbound clusters have endpoints but none healthy, so the proxy answers `no healthy upstream` for them: ' +
        'outbound|15012||istiod.istio-system.svc.cluster.local (2 endpoints: 2 failed_outlier_check); ' +
        'outbound|443||istiod.istio-system.svc.cluster.local (2 endpoints: 2 failed_outlier_check); ' +
        'outbound|80||httpbin.default.svc.cluster.local (1 endpoint: 1 failed_outlier_check)',
    });
    const healthy = fleet.vms.find((vm) => vm.faults.length === 0)!;
    expect(xds06(healthy)).toMatchObject({ status: 'PASS', message: 'each of the 4 outbound clusters with endpoints has a healthy one' });
  });

  it("says which check of CFG-02 failed: the removed revision's Service, or the address the gateway no longer has", () => {
    const cfg02 = (fault: string) =>
      result.report.findings.find(
        (f) => f.control === 'CFG-02' && f.subject.id === fleet.vms.find((vm) => vm.faults.includes(fault as never))!.instanceId,
      )!;
    expect(cfg02('istiod-revision-removed').message).toBe(
      'discoveryAddress and CA_ADDR istiod-1-22.istio-system.svc:15012 name the Service istiod-1-22, which istio-system does not have',
    );
    expect(cfg02('hosts-pin-stale').message).toBe(
      '/etc/hosts pins istiod.istio-system.svc to 10.19.255.9, an address neither the Service istio-system/istiod nor the east-west gateway ' +
        `istio-system/istio-eastwestgateway has (they have ${cfg02('hosts-pin-stale').evidence.serviceAddresses as string}, 10.19.255.10)`,
    );
    const honest = fleet.vms.find((vm) => vm.faults.length === 0)!;
    const pass = result.report.findings.find((f) => f.control === 'CFG-02' && f.subject.id === honest.instanceId)!;
    expect(pass.status).toBe('PASS');
    expect(pass.message).toContain(
      "/etc/hosts pins istiod.istio-system.svc to 10.19.255.10, the east-west gateway istio-system/istio-eastwestgateway's address",
    );
  });

  it('writes every report file next to the evidence bundle', () => {
    expect(result.written.map((p) => p.slice(dir.length))).toEqual(
      ['json', 'html', 'csv', 'junit.xml', 'ocsf.json'].map((f) => `/store/e2e/report.${f}`),
    );
    const stored = JSON.parse(readFileSync(join(dir, 'store', 'e2e', 'report.json'), 'utf8')) as Report;
    expect(stored).toEqual(result.report);
  });

  it('keeps the evidence readable by its owner only, and the reports shareable', () => {
    const mode = (path: string) => statSync(join(dir, 'store', 'e2e', path)).mode & 0o777;
    expect([
      mode('evidence'),
      mode('evidence/manifest.json'),
      mode(`evidence/invocations/${fleet.vms[0]!.instanceId}.json`),
      mode('evidence/cluster/syncz'),
    ]).toEqual([0o700, 0o600, 0o600, 0o700]);
    expect(mode('report.json')).toBe(0o644);
  });

  it('gives the same report when the stored bundle is analyzed again', async () => {
    const replay = await analyzeStoredBundle(
      new LocalBundle(join(dir, 'store', 'e2e', 'evidence')),
      new LocalArtifactWriter(join(dir, 'replay')),
    );
    expect(replay.report).toEqual(result.report);
    for (const file of ['report.html', 'report.csv', 'report.junit.xml', 'report.ocsf.json']) {
      expect(readFileSync(join(dir, 'replay', file), 'utf8'), file).toBe(readFileSync(join(dir, 'store', 'e2e', file), 'utf8'));
    }
  });
});

function byId(a: string, b: string): number {
  const [ia, ib] = [a.slice(a.indexOf(' ') + 1), b.slice(b.indexOf(' ') + 1)];
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}
