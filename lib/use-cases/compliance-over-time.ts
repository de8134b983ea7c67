import { compareRuns, ComplianceBuilder, emptyCompliance, type ComplianceReport } from '../core/compliance/compliance-report.ts';
import { RunHistoryError, type RunHistory } from '../ports/run-history.ts';

export interface ComplianceOverTimeResult {
  compliance: ComplianceReport;
  /** Runs left out because what is stored of them cannot be read, each with the reason. */
  unreadable: Array<{ runId: string; reason: string }>;
}

/**
 * Compliance over the period that ends with the newest stored run. Runs are read twice — once for their
 * finish times, then oldest first into the builder — so that memory holds one run at a time, not the year.
 */
export async function complianceOverTime(history: RunHistory, periodMs: number): Promise<ComplianceOverTimeResult> {
  const unreadable: ComplianceOverTimeResult['unreadable'] = [];
  const read = async (runId: string) => {
    try {
      return await history.readDigest(runId);
    } catch (error) {
      if (!(error instanceof RunHistoryError)) throw error;
      unreadable.push({ runId, reason: error.message });
      return undefined;
    }
  };
  const finished: Array<{ runId: string; finishedAt: string }> = [];
  for (const runId of await history.listRuns()) {
    const digest = await read(runId);
    if (digest) finished.push({ runId, finishedAt: digest.finishedAt });
  }
  finished.sort(compareRuns);
  const newest = finished.at(-1);
  if (!newest) return { compliance: emptyCompliance(), unreadable };
  const builder = new ComplianceBuilder(Date.parse(newest.finishedAt), periodMs);
  for (const run of finished) {
    if (!builder.covers(run.finishedAt)) continue;
    const digest = await read(run.runId);
    if (digest) builder.add(digest);
  }
  return { compliance: builder.finish(), unreadable };
}
