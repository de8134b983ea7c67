import { analyzeBundle } from '../../lib/core/analyze.ts';
import type { EvidenceBundle } from '../../lib/core/evidence-bundle.ts';
import type { Finding } from '../../lib/core/report.ts';

/** The findings of one control, keyed by subject id, for compact assertions. */
export function findingsOf(bundle: EvidenceBundle, control: string): Record<string, Pick<Finding, 'status' | 'message'>> {
  const report = analyzeBundle(bundle);
  return Object.fromEntries(
    report.findings.filter((f) => f.control === control).map((f) => [f.subject.id, { status: f.status, message: f.message }]),
  );
}
