import { describe, expect, it } from 'vitest';
import { CONTROLS } from '../../../lib/core/controls/catalogue.ts';
import { judgeReport } from '../../../lib/core/ci-gate.ts';
import { controlsJson, renderControlsTable } from '../../../lib/core/render/controls-table.ts';
import { describeVm, findVm, renderVmDescription } from '../../../lib/core/render/vm-description.ts';
import { expectGolden } from '../../support/golden.ts';
import { sampleReport } from '../../support/sample-report.ts';

describe('one VM described', () => {
  const report = sampleReport();

  it('lays out the VM and its findings as kubectl describe does', () => {
    const found = findVm(report, 'web-3');
    expect('vm' in found).toBe(true);
    if (!('vm' in found)) return;
    const text = renderVmDescription(describeVm(report, found.vm));
    expectGolden(text, 'vm-description.txt');
    expect(text).not.toContain('\u001b');
  });

  it('finds a VM by instance id or hostname, in any case, and lists every VM a hostname names', () => {
    expect(findVm(report, 'i-0000000000000002')).toMatchObject({ vm: { hostname: 'web-2' } });
    expect(findVm(report, 'WEB-1')).toMatchObject({ vm: { instanceId: 'i-0000000000000001' } });
    const twins = structuredClone(report);
    twins.vms[1]!.hostname = 'web-1';
    expect(findVm(twins, 'web-1')).toEqual({ matches: [twins.vms[0], twins.vms[1]] });
    expect(findVm(report, 'nope')).toEqual({ matches: [] });
  });

  it('gathers the mesh findings about its WorkloadEntry with its own', () => {
    const vm = report.vms.find((v) => v.instanceId === 'i-0000000000000001')!;
    const kinds = new Set(describeVm(report, vm).findings.map((f) => f.subject.kind));
    expect(vm.workloadEntry).not.toBeNull();
    expect([...kinds].sort()).toEqual(['vm', 'workloadentry']);
  });
});

describe('the catalogue listed', () => {
  it('prints every control', () => {
    const table = renderControlsTable(CONTROLS);
    expect(table.split('\n')[0]).toMatch(/^ID\s+SEVERITY\s+SUBJECT\s+TITLE$/);
    for (const c of CONTROLS) expect(table).toContain(c.id);
    expect(controlsJson(CONTROLS).map((c) => c.id)).toEqual(CONTROLS.map((c) => c.id));
  });
});

describe('the CI gate', () => {
  const report = sampleReport();
  it('fails at or above the severity and names the controls, most findings first', () => {
    expect(judgeReport(report, { failOn: 'CRITICAL' })).toEqual({
      failed: true,
      reason: '4 findings failed at or above CRITICAL (HEALTH-03 ×2, HEALTH-01 ×1, XDS-01 ×1)',
    });
    expect(judgeReport(report, {})).toEqual({ failed: false });
  });
  it('fails on UNKNOWN VMs only when asked', () => {
    expect(judgeReport(report, { failOnUnknown: true })).toEqual({ failed: true, reason: '1 VM was UNKNOWN (could not be checked)' });
  });
});
