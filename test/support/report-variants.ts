import type { Report } from '../../lib/core/report.ts';
import { hostileReport } from './hostile-report.ts';

/** The hostile report with its waiver as applyWaivers leaves it: in the WAIVED finding's evidence and in the list. */
export function waivedHostileReport(): Report {
  const report = hostileReport();
  const waiver = {
    justification: 'web-2 is being replaced; its readiness is <b>accepted</b> until then',
    owner: 'platform-team@example.com',
    expires: '2027-01-31T00:00:00Z',
  };
  return {
    ...report,
    findings: report.findings.map((f) => (f.status === 'WAIVED' ? { ...f, evidence: { ...f.evidence, waiver } } : f)),
    waivers: [{ control: 'HEALTH-03', subject: { kind: 'vm', id: 'i-0a1b2c3d4e5f60002' }, ...waiver, state: 'active', waived: 1 }],
  };
}
