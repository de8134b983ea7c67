import {
  FinalizationError,
  finalizeAudit,
  type FinalizeAuditDeps,
  type FinalizeAuditRequest,
  type FinalizeAuditResult,
} from './finalize-audit.ts';
import { messageOf } from '../shared/error-code.ts';

export interface SweepResult {
  /** Each overdue run looked at, with what finalizing it gave (or the error it threw). */
  runs: Array<{ runId: string; result: FinalizeAuditResult } | { runId: string; error: string; transient: boolean }>;
}

/**
 * Finalizes the open runs whose deadline has passed (SSM's events are best effort, so some never come),
 * oldest first and at most `limit`; one run failing does not stop the others.
 */
export async function sweepAudits(
  deps: FinalizeAuditDeps,
  request: Omit<FinalizeAuditRequest, 'runId'> & { limit: number },
): Promise<SweepResult> {
  const { limit, ...rest } = request;
  const overdue = await deps.registry.listOverdue(deps.clock(), limit);
  const runs: SweepResult['runs'] = [];
  for (const run of overdue) {
    try {
      runs.push({ runId: run.runId, result: await finalizeAudit(deps, { ...rest, runId: run.runId }) });
    } catch (error) {
      runs.push({
        runId: run.runId,
        error: messageOf(error),
        transient: error instanceof FinalizationError && error.transient,
      });
    }
  }
  return { runs };
}
