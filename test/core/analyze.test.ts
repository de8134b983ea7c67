import { describe, expect, it } from 'vitest';
import { analyzeBundle, vmStatus } from '../../lib/core/analyze.ts';
import { collect01 } from '../../lib/core/controls/collection.ts';
import { health01, health03 } from '../../lib/core/controls/health.ts';
import { reg01, reg02 } from '../../lib/core/controls/registration.ts';
import { xds01 } from '../../lib/core/controls/xds.ts';
import { ReportSchema, type Finding } from '../../lib/core/report.ts';
import { buildBundle, syncStatus, workloadEntry } from '../support/bundle-builder.ts';

const finding = (control: string, status: Finding['status']): Finding => ({
  control,
  status,
  severity: 'HIGH',
  subject: { kind: 'vm', id: 'i-1' },
  message: '',
  evidence: {},
  remediation: '',
});

describe('vmStatus', () => {
  it('is UNKNOWN when collection did not pass, whatever else says', () => {
    expect(vmStatus([finding('COLLECT-01', 'FAIL'), finding('HEALTH-01', 'PASS')])).toBe('UNKNOWN');
    expect(vmStatus([finding('COLLECT-01', 'ERROR')])).toBe('UNKNOWN');
    expect(vmStatus([])).toBe('UNKNOWN');
  });
  it('is NON_COMPLIANT on any FAIL, UNKNOWN on ERROR without FAIL, COMPLIANT otherwise', () => {
    expect(vmStatus([finding('COLLECT-01', 'PASS'), finding('HEALTH-01', 'FAIL'), finding('XDS-01', 'ERROR')])).toBe('NON_COMPLIANT');
    expect(vmStatus([finding('COLLECT-01', 'PASS'), finding('XDS-01', 'ERROR')])).toBe('UNKNOWN');
    expect(vmStatus([finding('COLLECT-01', 'PASS'), finding('REG-02', 'SKIP'), finding('HEALTH-01', 'WAIVED')])).toBe('COMPLIANT');
  });
});

describe('analyzeBundle', () => {
  const bundle = buildBundle({
    vms: [
      { instanceId: 'i-0000000000000002', hostname: 'b', ip: '10.0.0.2', activeState: 'failed', subState: 'failed' },
      { instanceId: 'i-0000000000000001', hostname: 'a', ip: '10.0.0.1' },
    ],
    entries: [workloadEntry('payments', 'payments-vm', '10.0.0.1')],
    syncz: { 'istiod-a': [syncStatus('a.payments')] },
  });

  it('builds a report that satisfies its own schema, with VMs sorted and counts that add up', () => {
    const report = ReportSchema.parse(analyzeBundle(bundle, { controls: [collect01, health01, health03, xds01, reg01, reg02] }));
    expect(report.vms.map((v) => [v.instanceId, v.status, v.proxyId, v.workloadEntry])).toEqual([
      ['i-0000000000000001', 'COMPLIANT', 'a.payments', 'payments/payments-vm-10.0.0.1'],
      ['i-0000000000000002', 'NON_COMPLIANT', 'b.payments', null],
    ]);
    expect(report.summary).toMatchObject({ vms: 2, compliant: 1, nonCompliant: 1, unknown: 0 });
    for (const [id, counts] of Object.entries(report.summary.byControl)) {
      expect(counts.PASS + counts.FAIL + counts.ERROR + counts.SKIP + counts.WAIVED).toBe(report.findings.filter((f) => f.control === id).length);
    }
    expect(report.summary.bySeverity).toEqual({ CRITICAL: 2, HIGH: 1, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0 });
  });

  it('takes "now" from the evidence: the same bundle gives the same report on any day', () => {
    expect(JSON.stringify(analyzeBundle(bundle))).toBe(JSON.stringify(analyzeBundle(structuredClone(bundle))));
    expect(analyzeBundle(bundle).finishedAt).toBe(bundle.manifest.finishedAt);
  });
});
