import { isFailingAtOrAbove, type Report, type Severity } from './report.ts';

/** What a CI pipeline asks of a report: fail at or above a severity, and optionally on VMs that could not be checked. */
export interface CiGate {
  failOn?: Severity;
  failOnUnknown?: boolean;
}

/** The gate's verdict: whether the pipeline should fail, and one line saying which findings or VMs made it fail. */
export interface CiVerdict {
  failed: boolean;
  reason?: string;
}

/** How many controls the reason names before it counts the rest. */
const NAMED_CONTROLS = 5;

/** Judges a report against the gate; the reason names the failing controls (most findings first) and the UNKNOWN VMs. */
export function judgeReport(report: Report, gate: CiGate): CiVerdict {
  const reasons: string[] = [];
  if (gate.failOn) {
    const perControl = new Map<string, number>();
    let total = 0;
    for (const f of report.findings) {
      if (!isFailingAtOrAbove(f, gate.failOn)) continue;
      total++;
      perControl.set(f.control, (perControl.get(f.control) ?? 0) + 1);
    }
    if (total > 0) {
      const named = [...perControl].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
      const list = named.slice(0, NAMED_CONTROLS).map(([control, n]) => `${control} ×${n}`);
      if (named.length > NAMED_CONTROLS)
        list.push(`${named.length - NAMED_CONTROLS} more control${named.length - NAMED_CONTROLS === 1 ? '' : 's'}`);
      reasons.push(`${total} finding${total === 1 ? '' : 's'} failed at or above ${gate.failOn} (${list.join(', ')})`);
    }
  }
  if (gate.failOnUnknown && report.summary.unknown > 0) {
    const n = report.summary.unknown;
    reasons.push(`${n} VM${n === 1 ? ' was' : 's were'} UNKNOWN (could not be checked)`);
  }
  return reasons.length === 0 ? { failed: false } : { failed: true, reason: reasons.join('; ') };
}
