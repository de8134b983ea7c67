import type { Severity } from '../report.ts';
import { parseSubjectKey, type RunDigest } from './run-digest.ts';

/** The severities a regression is told for. */
export const REGRESSION_SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH'];

/** A failure of this run that the previous run did not have. */
export interface Regression {
  control: string;
  severity: Severity;
  subject: { kind: string; id: string };
}

/**
 * The FAILs of `current` at the given severities whose control and subject were not a FAIL in `previous`
 * (passing, erroring, skipped, waived or absent then): what got worse since, in the digests' own order.
 * Two digests of the same run, or of runs that fail alike, give none.
 */
export function newFailures(
  previous: RunDigest,
  current: RunDigest,
  severities: readonly Severity[] = REGRESSION_SEVERITIES,
): Regression[] {
  const failedBefore = new Set<string>();
  for (const [control, subject, status] of previous.findings) {
    if (status === 'FAIL') failedBefore.add(`${previous.controls[control]?.id ?? ''}\u0000${previous.subjects[subject] ?? ''}`);
  }
  const wanted = new Set(severities);
  const seen = new Set<string>();
  const regressions: Regression[] = [];
  for (const [control, subject, status, severity] of current.findings) {
    if (status !== 'FAIL' || !wanted.has(severity)) continue;
    const controlId = current.controls[control]?.id ?? '';
    const subjectKey = current.subjects[subject] ?? '';
    const key = `${controlId}\u0000${subjectKey}`;
    if (failedBefore.has(key) || seen.has(key)) continue;
    seen.add(key);
    regressions.push({ control: controlId, severity, subject: parseSubjectKey(subjectKey) });
  }
  return regressions;
}
