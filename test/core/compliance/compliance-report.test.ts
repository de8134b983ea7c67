import { describe, expect, it } from 'vitest';
import { computeCompliance, parsePeriod } from '../../../lib/core/compliance/compliance-report.ts';
import { sampleDigests as digests, TIMES } from '../../support/compliance-history.ts';

// The history (test/support/compliance-history.ts): ten runs, one fingerprint a row, each with a known story.
describe('compliance over time', () => {
  it('gives the exact numbers of the contract over the whole history', () => {
    // Runs in any order: the result depends on their finish times only.
    const c = computeCompliance(digests().reverse(), parsePeriod('30d')!);
    expect(c.from).toBe('2026-10-10T18:00:00.000Z');
    expect(c.to).toBe('2026-11-09T18:00:00Z');
    expect(c.runs.map((r) => r.runId)).toEqual(TIMES.map((_, i) => `run-${i}`));
    expect(c.openFindings).toEqual([
      {
        control: 'HEALTH-01',
        subject: { kind: 'vm', id: 'i-b' },
        severity: 'CRITICAL',
        firstSeen: TIMES[5],
        lastSeen: TIMES[9],
        ageDays: 3.5,
        status: 'FAIL',
      },
      {
        control: 'XDS-05',
        subject: { kind: 'proxy', id: 'p.ns' },
        severity: 'HIGH',
        firstSeen: TIMES[7],
        lastSeen: TIMES[9],
        ageDays: 1.5,
        status: 'ERROR',
      },
    ]);
    expect(c.fixedFindings).toEqual([
      { control: 'XDS-01', subject: { kind: 'vm', id: 'i-a' }, firstSeen: TIMES[0], fixedAt: TIMES[3], hoursToFix: 72 },
      { control: 'CERT-01', subject: { kind: 'vm', id: 'i-c' }, firstSeen: TIMES[2], fixedAt: TIMES[4], hoursToFix: 48 },
      { control: 'LOGS-01', subject: { kind: 'vm', id: 'i-h' }, firstSeen: TIMES[6], fixedAt: TIMES[7], hoursToFix: 24 },
    ]);
    expect(c.meanHoursToFix).toBe(48);
    expect(c.waivers).toEqual([
      {
        control: 'CERT-02',
        subject: 'vm i-g',
        justification: 'root rotation scheduled',
        expires: '2027-01-31T00:00:00Z',
        owner: 'mesh-team',
        state: 'active',
      },
    ]);
  });

  it('counts each day by its last run, with the share of compliant findings and the trend', () => {
    const c = computeCompliance(digests(), parsePeriod('30d')!);
    const byControl = new Map(c.controls.map((k) => [k.control, k]));
    const health = byControl.get('HEALTH-01')!;
    expect(health.days).toHaveLength(9);
    expect(health.days[0]).toEqual({ date: '2026-11-01', runs: 1, pass: 1, fail: 0, error: 0, waived: 0, compliantShare: 1 });
    expect(health.days[8]).toEqual({ date: '2026-11-09', runs: 2, pass: 0, fail: 1, error: 0, waived: 0, compliantShare: 0 });
    expect(health.trend).toBe('worsening');
    // WAIVED counts as compliant; SKIP is not counted, so a day of SKIP only has no share.
    expect(byControl.get('CERT-02')!.days.at(-1)).toMatchObject({ waived: 1, compliantShare: 1 });
    expect(byControl.get('CERT-02')!.trend).toBe('improving');
    expect(byControl.get('NET-01')!.days.at(-1)).toMatchObject({ pass: 0, fail: 0, compliantShare: null });
    expect(byControl.get('NET-01')!.trend).toBe('steady');
    expect(byControl.get('XDS-05')!.days[0]!.compliantShare).toBeNull();
    expect(Object.fromEntries(c.controls.map((k) => [k.control, k.trend]))).toEqual({
      'XDS-01': 'improving',
      'HEALTH-01': 'worsening',
      'CERT-01': 'improving',
      'NET-01': 'steady',
      'REG-02': 'steady',
      'XDS-05': 'steady',
      'CERT-02': 'improving',
      'LOGS-01': 'improving',
    });
  });

  it('counts only the runs of the period, streaks included', () => {
    const c = computeCompliance(digests(), parsePeriod('3d')!);
    expect(c.from).toBe('2026-11-06T18:00:00.000Z');
    expect(c.runs.map((r) => r.runId)).toEqual(['run-6', 'run-7', 'run-8', 'run-9']);
    expect(c.openFindings.map((f) => [f.control, f.firstSeen, f.ageDays])).toEqual([
      ['HEALTH-01', TIMES[6], 2.5],
      ['XDS-05', TIMES[7], 1.5],
    ]);
    expect(c.fixedFindings.map((f) => [f.control, f.hoursToFix])).toEqual([['LOGS-01', 24]]);
    expect(c.meanHoursToFix).toBe(24);
  });

  it('has no run, no period and no mean when nothing is stored', () => {
    expect(computeCompliance([], parsePeriod('30d')!)).toMatchObject({ from: null, to: null, runs: [], meanHoursToFix: null });
  });

  it('reads periods in hours, days and weeks, and nothing else', () => {
    expect([parsePeriod('12h'), parsePeriod('30d'), parsePeriod('2w')]).toEqual([12 * 3_600_000, 30 * 86_400_000, 14 * 86_400_000]);
    expect([parsePeriod('0d'), parsePeriod('30'), parsePeriod('1y'), parsePeriod('-3d')]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
