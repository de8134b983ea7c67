import type { FinalizeAuditResult } from '../../lib/use-cases/finalize-audit.ts';

/** The fields of a finalization outcome worth a log line. */
export function outcomeFields(result: FinalizeAuditResult): Record<string, unknown> {
  switch (result.kind) {
    case 'collecting':
      return { runId: result.runId, outcome: result.kind, collected: result.collected, expected: result.expected, pending: result.pending };
    case 'done':
      return {
        runId: result.runId,
        outcome: result.kind,
        vms: result.summary.vms,
        compliant: result.summary.compliant,
        nonCompliant: result.summary.nonCompliant,
        unknown: result.summary.unknown,
        ...('error' in result.announced ? { eventsNotPublished: result.announced.error } : { eventsPublished: result.announced.published }),
      };
    case 'final':
      return { runId: result.runId, outcome: result.kind, status: result.status };
    case 'failed':
      return { runId: result.runId, outcome: result.kind, error: result.error };
    default:
      return { runId: result.runId, outcome: result.kind };
  }
}
