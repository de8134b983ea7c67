import { describe, expect, it } from 'vitest';
import { compactFinding, compactFindings, PASS_EVIDENCE_CHARS } from '../../lib/core/compact-findings.ts';
import { reportJsonText } from '../../lib/core/report-json.ts';
import { ReportSchema, StoredReportSchema, type Finding, type Report } from '../../lib/core/report.ts';
import { hostileReport } from '../support/hostile-report.ts';

const REMEDIATION = 'Restart the agent: `systemctl restart istio`.';

function pass(id: string, message: string, evidence: Record<string, unknown> = {}, severity: Finding['severity'] = 'HIGH'): Finding {
  return { control: 'HEALTH-01', status: 'PASS', severity, subject: { kind: 'vm', id }, message, evidence, remediation: '' };
}

/** A fleet's report in small: PASS findings that repeat their message, and findings that are not PASS. */
function fleetReport(): Report {
  const base = hostileReport();
  const findings: Finding[] = [
    pass('i-1', 'istio is active (running)', { activeState: 'active' }),
    pass('i-2', 'istio is active (running)', { activeState: 'active' }),
    pass('i-3', 'istio is active (running) \u2026 with a restart'),
    // A PASS with a severity of its own is kept whole.
    pass('i-4', 'istio is active (running)', {}, 'LOW'),
    { ...pass('i-5', 'istio is inactive (dead)', { activeState: 'inactive' }), status: 'FAIL', remediation: REMEDIATION },
    { ...pass('i-6', 'istio is failed', { activeState: 'failed' }), status: 'FAIL', remediation: REMEDIATION },
    { ...pass('i-7', 'no output', {}), status: 'ERROR', remediation: 'another remediation, its own' },
  ];
  return {
    ...base,
    summary: {
      ...base.summary,
      byControl: {
        ...base.summary.byControl,
        'HEALTH-01': { severity: 'HIGH', title: 'Sidecar unit running', PASS: 4, FAIL: 2, ERROR: 1, SKIP: 0, WAIVED: 0 },
      },
    },
    findings: [...base.findings, ...findings],
  };
}

describe('report.json', () => {
  it('reads back into the report it was written from', () => {
    for (const report of [fleetReport(), hostileReport()]) expect(ReportSchema.parse(JSON.parse(reportJsonText(report)))).toEqual(report);
  });

  it('stores a PASS with its control severity as a list naming its message and excerpt once, and each remediation once', () => {
    const stored = StoredReportSchema.parse(JSON.parse(reportJsonText(fleetReport())));
    const health = stored.findings.filter((f) => (Array.isArray(f) ? f[0] : f.control) === 'HEALTH-01');
    expect(health.slice(0, 3)).toEqual([
      ['HEALTH-01', 'vm', 'i-1', 0, 0],
      ['HEALTH-01', 'vm', 'i-2', 0, 0],
      ['HEALTH-01', 'vm', 'i-3', 1],
    ]);
    expect(health[3]).toMatchObject({ status: 'PASS', severity: 'LOW' });
    expect(health.slice(4, 6).every((f) => !Array.isArray(f) && f.remediation === undefined)).toBe(true);
    expect(health[6]).toMatchObject({ remediation: 'another remediation, its own' });
    expect(stored.texts).toEqual(['istio is active (running)', 'istio is active (running) \u2026 with a restart']);
    expect(stored.excerpts).toEqual([{ activeState: 'active' }]);
    expect(stored.remediations?.['HEALTH-01']).toBe(REMEDIATION);
  });

  it('is refused when a PASS names a message, an excerpt or a control the file does not hold', () => {
    const stored = JSON.parse(reportJsonText(fleetReport())) as { findings: unknown[] };
    const at = stored.findings.findIndex((f) => Array.isArray(f));
    const variants: unknown[] = [
      ['HEALTH-01', 'vm', 'i-1', 99],
      ['HEALTH-01', 'vm', 'i-1', 0, 99],
      ['NOPE-01', 'vm', 'i-1', 0],
    ];
    for (const broken of variants) {
      const findings = stored.findings.with(at, broken);
      expect(ReportSchema.safeParse({ ...stored, findings }).success).toBe(false);
    }
  });
});

describe('compactFinding', () => {
  it('keeps a PASS evidence that fits whole, and an excerpt of one that does not, counting what it left out', () => {
    const small = { status: 'Success' };
    expect(compactFinding(pass('i-1', 'ok', small)).evidence).toEqual(small);
    const large = { state: 'active', detail: 'x'.repeat(500), more: [1, 2, 3], last: 'y'.repeat(100) };
    const excerpt = compactFinding(pass('i-1', 'ok', large)).evidence;
    expect(JSON.stringify(excerpt).length).toBeLessThanOrEqual(PASS_EVIDENCE_CHARS);
    expect(excerpt.state).toBe('active');
    expect(excerpt['…']).toBeGreaterThan(0);
  });

  it('keeps the evidence of a finding that is not PASS whole', () => {
    const large = { detail: 'x'.repeat(500) };
    expect(compactFinding({ ...pass('i-1', 'no', large), status: 'FAIL' }).evidence).toEqual(large);
  });
});

describe('compactFindings', () => {
  it('gives each finding its compactFinding, one subject object a VM and one excerpt object for equal PASS excerpts', () => {
    const findings = [
      pass('i-1', 'ok', { state: 'active' }),
      { ...pass('i-1', 'not ok', { state: 'failed' }), control: 'HEALTH-02', status: 'FAIL' as const },
      pass('i-2', 'ok', { state: 'active' }),
    ];
    const compact = compactFindings(findings);
    expect(compact).toEqual(findings.map(compactFinding));
    expect(compact[1]!.subject).toBe(compact[0]!.subject);
    expect(compact[2]!.evidence).toBe(compact[0]!.evidence);
    expect(compact[2]!.subject).not.toBe(compact[0]!.subject);
  });
});
