import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactWriter, LocalAuditStore, LocalBundle } from '../../lib/adapters/local-audit-store.ts';
import type { FindingStatus, Report } from '../../lib/core/report.ts';
import { buildSimFleet, type SimFleet } from '../../lib/sim/fleet.ts';
import { SimFleetRunner, SimMeshReader } from '../../lib/sim/sim-sources.ts';
import { analyzeStoredBundle } from '../../lib/use-cases/analyze-bundle.ts';
import { runAudit, type RunAuditResult } from '../../lib/use-cases/run-audit.ts';

const NOW = new Date('2026-11-26T06:00:00.000Z');

/** What each injected fault must make the audit say about its VM (every other VM control PASSes). */
const EXPECTED_BY_FAULT: Record<string, Record<string, FindingStatus>> = {
  'sidecar-stopped': { 'HEALTH-01': 'FAIL', 'HEALTH-03': 'FAIL', 'XDS-01': 'FAIL', 'REG-01': 'FAIL' },
  'sidecar-not-ready': { 'HEALTH-03': 'FAIL' },
  'istiod-disconnected': { 'XDS-01': 'FAIL', 'REG-01': 'FAIL' },
  'workload-entry-missing': { 'REG-01': 'FAIL' },
  'ssm-undeliverable': { 'COLLECT-01': 'FAIL', 'HEALTH-01': 'ERROR', 'HEALTH-03': 'ERROR', 'XDS-01': 'ERROR', 'REG-01': 'ERROR' },
};

describe('an audit of the simulated fleet', () => {
  let dir: string;
  let fleet: SimFleet;
  let result: RunAuditResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-e2e-'));
    fleet = buildSimFleet({ vms: 50, seed: 7, now: NOW });
    result = await runAudit(
      { fleet: new SimFleetRunner(fleet), mesh: new SimMeshReader(fleet), store: new LocalAuditStore(join(dir, 'store')), clock: () => NOW },
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
        report.findings.filter((f) => f.subject.kind === 'vm' && f.subject.id === vm.instanceId && f.status !== 'PASS').map((f) => [f.control, f.status]),
      );
      expect(actual, `${vm.instanceId} with faults [${vm.faults.join(', ')}]`).toEqual(expected);
    }
  });

  it('has one VM per fault in a 50-VM fleet, and the rest compliant', () => {
    const faulty = fleet.vms.filter((vm) => vm.faults.length > 0);
    expect(new Set(faulty.flatMap((vm) => vm.faults))).toEqual(new Set(Object.keys(EXPECTED_BY_FAULT)));
    expect(result.report.summary.vms).toBe(50);
    expect(result.report.summary.compliant).toBe(50 - faulty.length);
    const unknown = result.report.vms.filter((v) => v.status === 'UNKNOWN').map((v) => v.instanceId);
    expect(unknown).toEqual(fleet.vms.filter((vm) => vm.faults.includes('ssm-undeliverable')).map((vm) => vm.instanceId).sort());
  });

  it('finds the orphan WorkloadEntry and no other failing entry', () => {
    const entries = result.report.findings.filter((f) => f.control === 'REG-02' && f.status === 'FAIL').map((f) => f.subject.id);
    expect(entries).toEqual(fleet.orphanEntries.map((o) => `${o.namespace}/${o.group}-${o.ip}`));
  });

  it('writes report.json and report.html next to the evidence bundle', () => {
    expect(result.written.map((p) => p.slice(dir.length))).toEqual(['/store/e2e/report.json', '/store/e2e/report.html']);
    const stored = JSON.parse(readFileSync(join(dir, 'store', 'e2e', 'report.json'), 'utf8')) as Report;
    expect(stored).toEqual(result.report);
  });

  it('gives the same report when the stored bundle is analyzed again', async () => {
    const replay = await analyzeStoredBundle(new LocalBundle(join(dir, 'store', 'e2e', 'evidence')), new LocalArtifactWriter(join(dir, 'replay')));
    expect(replay.report).toEqual(result.report);
    expect(readFileSync(join(dir, 'replay', 'report.html'), 'utf8')).toBe(readFileSync(join(dir, 'store', 'e2e', 'report.html'), 'utf8'));
  });
});
