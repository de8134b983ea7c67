import { describe, expect, it } from 'vitest';
import { analyzeBundle } from '../../lib/core/analyze.ts';
import { collect01 } from '../../lib/core/controls/collection.ts';
import { health01 } from '../../lib/core/controls/health.ts';
import { reg02 } from '../../lib/core/controls/registration.ts';
import { WaiversFileSchema, type Waiver } from '../../lib/core/waivers.ts';
import { buildBundle, workloadEntry } from '../support/bundle-builder.ts';

const bundle = buildBundle({
  vms: [{ instanceId: 'i-0000000000000001', activeState: 'inactive', subState: 'dead' }],
  entries: [workloadEntry('payments', 'payments-vm', '10.9.9.9'), workloadEntry('payments', 'payments-vm', '10.9.9.8')],
});
const analyze = (waivers: Waiver[]) => analyzeBundle(bundle, { controls: [collect01, health01, reg02], waivers });
const waiver = (extra: Partial<Waiver>): Waiver => ({ control: 'HEALTH-01', reason: 'decommissioning this week', expires: '2027-01-01T00:00:00Z', ...extra });

describe('waivers', () => {
  it('turn a covered FAIL into WAIVED, keep it listed with the waiver, and make the VM compliant', () => {
    const report = analyze([waiver({ subject: { kind: 'vm', id: 'i-0000000000000001' }, approvedBy: 'platform-team' })]);
    const finding = report.findings.find((f) => f.control === 'HEALTH-01')!;
    expect(finding.status).toBe('WAIVED');
    expect(finding.evidence.waiver).toEqual({ reason: 'decommissioning this week', expires: '2027-01-01T00:00:00Z', approvedBy: 'platform-team' });
    expect(report.vms[0]!.status).toBe('COMPLIANT');
    expect(report.summary.byControl['HEALTH-01']).toMatchObject({ FAIL: 0, WAIVED: 1 });
  });

  it('apply only until they expire, judged at the evidence\'s time', () => {
    expect(analyze([waiver({ expires: '2026-01-01T00:00:00Z' })]).findings.find((f) => f.control === 'HEALTH-01')!.status).toBe('FAIL');
  });

  it('match subjects exactly or by prefix, and never touch PASS or ERROR', () => {
    const report = analyze([waiver({ control: 'REG-02', subject: { kind: 'workloadentry', id: 'payments/payments-vm-10.9.9.9' } })]);
    expect(report.findings.filter((f) => f.control === 'REG-02').map((f) => f.status)).toEqual(['FAIL', 'WAIVED']);
    const prefix = analyze([waiver({ control: 'REG-02', subject: { id: 'payments/*' } }), waiver({ control: 'COLLECT-01' })]);
    expect(prefix.findings.filter((f) => f.control === 'REG-02').map((f) => f.status)).toEqual(['WAIVED', 'WAIVED']);
    expect(prefix.findings.find((f) => f.control === 'COLLECT-01')!.status).toBe('PASS');
  });

  it('must say why and when they end', () => {
    expect(WaiversFileSchema.safeParse({ waivers: [{ control: 'HEALTH-01', reason: '', expires: '2027-01-01T00:00:00Z' }] }).success).toBe(false);
    expect(WaiversFileSchema.safeParse({ waivers: [{ control: 'HEALTH-01', reason: 'x' }] }).success).toBe(false);
    expect(WaiversFileSchema.safeParse({ waivers: [{ control: 'health', reason: 'x', expires: '2027-01-01T00:00:00Z' }] }).success).toBe(false);
  });
});
