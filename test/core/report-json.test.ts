import { describe, expect, it } from 'vitest';
import { compactFinding, compactFindings, PASS_EVIDENCE_CHARS } from '../../lib/core/compact-findings.ts';
import { reportJsonText } from '../../lib/core/report-json.ts';
import { ReportSchema, type Finding, type Report } from '../../lib/core/report.ts';
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
  it('holds every finding as the object contract 3 names, and reads back into the report it was written from', () => {
    for (const report of [fleetReport(), hostileReport()]) {
      const stored = JSON.parse(reportJsonText(report)) as Report;
      expect(stored).toEqual(JSON.parse(JSON.stringify(report)));
      expect(ReportSchema.parse(stored)).toEqual(report);
    }
  });

  it('writes one finding a line, each with its control, status, severity, subject, message, evidence and remediation', () => {
    const lines = reportJsonText(fleetReport()).split('\n');
    const findings = lines.filter((l) => l.startsWith('    {"control":'));
    expect(findings).toHaveLength(fleetReport().findings.length);
    for (const line of findings)
      expect(Object.keys(JSON.parse(line.replace(/,$/, '')) as object)).toEqual([
        'control',
        'status',
        'severity',
        'subject',
        'message',
        'evidence',
        'remediation',
      ]);
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
