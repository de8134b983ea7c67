import { DIGEST_VERSION, type RunDigest } from '../../lib/core/compliance/run-digest.ts';
import type { FindingStatus, Severity } from '../../lib/core/report.ts';

// Ten runs: one a day at 06:00 from 1 to 9 November, and a second on the 9th at 18:00. Each row is one
// fingerprint's status in runs 0..9 (F FAIL, P PASS, E ERROR, S SKIP, W WAIVED, - not reported).
export const TIMES = [...Array.from({ length: 9 }, (_, d) => `2026-11-0${d + 1}T06:00:00Z`), '2026-11-09T18:00:00Z'];
const HISTORY: Array<{ control: string; severity: Severity; subject: string; statuses: string }> = [
  { control: 'XDS-01', severity: 'CRITICAL', subject: 'vm i-a', statuses: 'FFFPPPPPPP' }, // fixed after 72 h
  { control: 'HEALTH-01', severity: 'CRITICAL', subject: 'vm i-b', statuses: 'PPPPPFFFFF' }, // a regression, open
  { control: 'CERT-01', severity: 'HIGH', subject: 'vm i-c', statuses: 'FPFFPPPPPP' }, // fixed twice: the last fix counts
  { control: 'NET-01', severity: 'HIGH', subject: 'vm i-d', statuses: 'FFFFFSSSSS' }, // retired: SKIP
  { control: 'REG-02', severity: 'HIGH', subject: 'workloadentry ns/e', statuses: 'FFFF------' }, // retired: gone
  { control: 'XDS-05', severity: 'HIGH', subject: 'proxy p.ns', statuses: '-------EEE' }, // open, ERROR
  { control: 'CERT-02', severity: 'CRITICAL', subject: 'vm i-g', statuses: 'FFFFFFWWWW' }, // retired: WAIVED
  { control: 'LOGS-01', severity: 'MEDIUM', subject: 'vm i-h', statuses: 'FPPPPPFPPP' }, // regressed and fixed again
];
const STATUS: Record<string, FindingStatus> = { F: 'FAIL', P: 'PASS', E: 'ERROR', S: 'SKIP', W: 'WAIVED' };

/** The ten runs as digests, oldest first. */
export function sampleDigests(): RunDigest[] {
  const controls = HISTORY.map((h) => ({ id: h.control, severity: h.severity, title: `${h.control} title` }));
  return TIMES.map((finishedAt, run) => ({
    digestVersion: DIGEST_VERSION,
    runId: `run-${run}`,
    finishedAt,
    vms: 7,
    compliant: 3,
    nonCompliant: 3,
    unknown: 1,
    controls,
    subjects: HISTORY.map((h) => h.subject),
    findings: HISTORY.flatMap((h, i) =>
      h.statuses[run] === '-' ? [] : [[i, i, STATUS[h.statuses[run]!]!, h.severity] as RunDigest['findings'][number]],
    ),
    waivers:
      run === 9
        ? [
            {
              control: 'CERT-02',
              subject: 'vm i-g',
              justification: 'root rotation scheduled',
              expires: '2027-01-31T00:00:00Z',
              owner: 'mesh-team',
              state: 'active',
            },
          ]
        : [],
  }));
}
