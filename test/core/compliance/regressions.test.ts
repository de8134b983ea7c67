import { describe, expect, it } from 'vitest';
import { newFailures } from '../../../lib/core/compliance/regressions.ts';
import { DIGEST_VERSION, type RunDigest } from '../../../lib/core/compliance/run-digest.ts';

/** What got worse between two runs' digests: new FAILs at CRITICAL or HIGH, matched by control and subject. */

type Row = [
  control: string,
  subject: string,
  status: 'PASS' | 'FAIL' | 'ERROR' | 'SKIP' | 'WAIVED',
  severity: 'CRITICAL' | 'HIGH' | 'MEDIUM',
];

/** A digest of these findings; controls and subjects are indexed in the order given (as digestReport does). */
function digest(runId: string, rows: Row[]): RunDigest {
  const controls: RunDigest['controls'] = [];
  const subjects: string[] = [];
  const index = <T>(list: T[], find: (t: T) => boolean, make: () => T) => {
    const found = list.findIndex(find);
    return found >= 0 ? found : list.push(make()) - 1;
  };
  const findings = rows.map(([control, subject, status, severity]) => {
    const c = index(
      controls,
      (x) => x.id === control,
      () => ({ id: control, severity, title: control }),
    );
    const s = index(
      subjects,
      (x) => x === subject,
      () => subject,
    );
    return [c, s, status, severity] as RunDigest['findings'][number];
  });
  return {
    digestVersion: DIGEST_VERSION,
    runId,
    finishedAt: '2026-04-01T06:20:00Z',
    vms: 2,
    compliant: 0,
    nonCompliant: 0,
    unknown: 0,
    controls,
    subjects,
    findings,
    waivers: [],
  };
}

describe('new failures between two runs', () => {
  it('are the CRITICAL and HIGH FAILs whose control and subject did not FAIL before, whatever the indexes', () => {
    const previous = digest('a', [
      ['HEALTH-01', 'vm i-1', 'FAIL', 'CRITICAL'],
      ['REG-01', 'vm i-2', 'PASS', 'HIGH'],
      ['XDS-01', 'vm i-2', 'ERROR', 'HIGH'],
      ['CERT-01', 'vm i-1', 'WAIVED', 'HIGH'],
    ]);
    // Another order: the same control and subject get other indexes in this digest.
    const current = digest('b', [
      ['CERT-01', 'vm i-1', 'FAIL', 'HIGH'],
      ['XDS-01', 'vm i-2', 'FAIL', 'HIGH'],
      ['HEALTH-01', 'vm i-1', 'FAIL', 'CRITICAL'],
      ['REG-01', 'vm i-2', 'FAIL', 'HIGH'],
      ['LOGS-01', 'vm i-2', 'FAIL', 'MEDIUM'],
      ['FLEET-01', 'fleet fleet', 'FAIL', 'CRITICAL'],
    ]);
    expect(newFailures(previous, current)).toEqual([
      { control: 'CERT-01', severity: 'HIGH', subject: { kind: 'vm', id: 'i-1' } },
      { control: 'XDS-01', severity: 'HIGH', subject: { kind: 'vm', id: 'i-2' } },
      { control: 'REG-01', severity: 'HIGH', subject: { kind: 'vm', id: 'i-2' } },
      { control: 'FLEET-01', severity: 'CRITICAL', subject: { kind: 'fleet', id: 'fleet' } },
    ]);
  });

  it('are none between a run and itself, and none when nothing fails', () => {
    const run = digest('a', [
      ['HEALTH-01', 'vm i-1', 'FAIL', 'CRITICAL'],
      ['REG-01', 'vm i-2', 'PASS', 'HIGH'],
    ]);
    expect(newFailures(run, run)).toEqual([]);
    expect(newFailures(run, digest('b', [['HEALTH-01', 'vm i-1', 'PASS', 'CRITICAL']]))).toEqual([]);
  });

  it('are listed once when a control fails twice on one subject, and follow the severities asked for', () => {
    const current = digest('b', [
      ['NET-01', 'vm i-1', 'FAIL', 'MEDIUM'],
      ['NET-01', 'vm i-1', 'FAIL', 'MEDIUM'],
    ]);
    expect(newFailures(digest('a', []), current)).toEqual([]);
    expect(newFailures(digest('a', []), current, ['MEDIUM'])).toEqual([
      { control: 'NET-01', severity: 'MEDIUM', subject: { kind: 'vm', id: 'i-1' } },
    ]);
  });
});
