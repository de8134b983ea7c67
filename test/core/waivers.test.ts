import { describe, expect, it } from 'vitest';
import { analyzeBundle } from '../../lib/core/analyze.ts';
import { collect01 } from '../../lib/core/controls/collection.ts';
import { health01 } from '../../lib/core/controls/health.ts';
import { reg02 } from '../../lib/core/controls/registration.ts';
import { globToRegExp, parseWaivers, type Waiver } from '../../lib/core/waivers.ts';
import { buildBundle, workloadEntry } from '../support/bundle-builder.ts';

const bundle = buildBundle({
  vms: [{ instanceId: 'i-0000000000000001', activeState: 'inactive', subState: 'dead' }],
  entries: [workloadEntry('payments', 'payments-vm', '10.9.9.9'), workloadEntry('payments', 'payments-vm', '10.9.9.8')],
});
const analyze = (waivers: Waiver[]) => analyzeBundle(bundle, { controls: [collect01, health01, reg02], waivers });
const waiver = (extra: Partial<Waiver>): Waiver => ({
  control: 'HEALTH-01',
  justification: 'decommissioning this week',
  owner: 'platform-team',
  expires: '2027-01-01T00:00:00Z',
  ...extra,
});
const readAt = new Date('2026-11-26T00:00:00Z');

describe('waivers', () => {
  it('turn a covered FAIL into WAIVED, keep it listed with the waiver, and make the VM compliant', () => {
    const report = analyze([waiver({ subject: { kind: 'vm', id: 'i-0000000000000001' } })]);
    const finding = report.findings.find((f) => f.control === 'HEALTH-01')!;
    expect(finding.status).toBe('WAIVED');
    expect(finding.evidence.waiver).toEqual({
      justification: 'decommissioning this week',
      owner: 'platform-team',
      expires: '2027-01-01T00:00:00Z',
    });
    expect(report.vms[0]!.status).toBe('COMPLIANT');
    expect(report.summary.byControl['HEALTH-01']).toMatchObject({ FAIL: 0, WAIVED: 1 });
    expect(report.waivers).toEqual([{ ...waiver({ subject: { kind: 'vm', id: 'i-0000000000000001' } }), state: 'active', waived: 1 }]);
  });

  it("apply only until they expire, judged at the evidence's time, and are listed as expired after", () => {
    const report = analyze([waiver({ expires: '2026-01-01T00:00:00Z' })]);
    expect(report.findings.find((f) => f.control === 'HEALTH-01')!.status).toBe('FAIL');
    expect(report.waivers.map((w) => [w.state, w.waived])).toEqual([['expired', 0]]);
  });

  it('say when they cover nothing, or name a control the catalogue does not have', () => {
    const report = analyze([waiver({ subject: { id: 'i-ffff*' } }), waiver({ control: 'NET-42' })]);
    expect(report.waivers.map((w) => [w.control, w.state])).toEqual([
      ['HEALTH-01', 'unused'],
      ['NET-42', 'unknown-control'],
    ]);
  });

  it('match subjects exactly, by glob or by namespace, and never touch PASS or ERROR', () => {
    const report = analyze([waiver({ control: 'REG-02', subject: { kind: 'workloadentry', id: 'payments/payments-vm-10.9.9.9' } })]);
    expect(report.findings.filter((f) => f.control === 'REG-02').map((f) => f.status)).toEqual(['FAIL', 'WAIVED']);
    const glob = analyze([waiver({ control: 'REG-02', subject: { id: 'payments/*-10.9.9.?' } }), waiver({ control: 'COLLECT-01' })]);
    expect(glob.findings.filter((f) => f.control === 'REG-02').map((f) => f.status)).toEqual(['WAIVED', 'WAIVED']);
    expect(glob.findings.find((f) => f.control === 'COLLECT-01')!.status).toBe('PASS');
    const namespaced = analyze([
      waiver({ control: 'REG-02', subject: { namespace: 'payments' } }),
      waiver({ subject: { namespace: 'billing' } }),
    ]);
    expect(namespaced.waivers.map((w) => w.waived)).toEqual([2, 0]);
  });

  it('read globs literally but for * and ?', () => {
    expect(globToRegExp('a.b*').test('a.bcd')).toBe(true);
    expect(globToRegExp('a.b*').test('axbcd')).toBe(false);
    expect(globToRegExp('ns/(x)?').test('ns/(x)1')).toBe(true);
  });

  it('must say why, who owns them and when they end, at most a year ahead; the error names the entry', () => {
    const entry = { control: 'HEALTH-01', justification: 'x', owner: 'me', expires: '2027-01-01T00:00:00Z' };
    expect(parseWaivers({ waivers: [entry] }, readAt)).toEqual([entry]);
    expect(() => parseWaivers({ waivers: [entry, { ...entry, justification: ' ' }] }, readAt)).toThrow(
      'waivers[1] (HEALTH-01): justification: a waiver must say why',
    );
    expect(() => parseWaivers({ waivers: [{ ...entry, owner: undefined }] }, readAt)).toThrow(/waivers\[0\] \(HEALTH-01\): owner/);
    expect(() => parseWaivers({ waivers: [{ ...entry, expires: 'soon' }] }, readAt)).toThrow(
      'waivers[0] (HEALTH-01): expires: expected an RFC 3339 time',
    );
    expect(() => parseWaivers({ waivers: [{ ...entry, expires: '2028-01-01T00:00:00Z' }] }, readAt)).toThrow('more than a year away');
    expect(() => parseWaivers({ waivers: [{ ...entry, control: 'health' }] }, readAt)).toThrow(
      'waivers[0]: control: expected a control id',
    );
    expect(() => parseWaivers({ waivers: [{ ...entry, reason: 'old field' }] }, readAt)).toThrow(/waivers\[0\] \(HEALTH-01\).*reason/);
    expect(() => parseWaivers({ waiver: [] }, readAt)).toThrow(/waivers/);
  });
});
