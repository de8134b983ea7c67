import { z } from 'zod';
import type { AuditMetrics } from '../lib/ports/audit-metrics.ts';
import type { FinalizeAuditDeps } from '../lib/use-cases/finalize-audit.ts';
import { sweepAudits, type SweepResult } from '../lib/use-cases/sweep-audits.ts';
import { once } from './shared/config.ts';
import { errorKindOf, withMetrics } from './shared/metrics.ts';
import { parseEvent } from './shared/events.ts';
import { finalizeDepsFromEnv } from './shared/finalize-deps.ts';
import { createLogger, errorFields, type HandlerLogger, type InvocationContext } from './shared/logger.ts';
import { outcomeFields } from './shared/outcomes.ts';

/**
 * EventBridge Scheduler, every few minutes → finalize the runs whose deadline passed without an event
 * (SSM documents its events as best effort), and fail those that never finished sending.
 */
export const SweepEventSchema = z.object({ trigger: z.literal('sweep') });

/** Runs looked at per sweep, so that a sweep ends well within the function's timeout. */
export const SWEEP_LIMIT = 5;

export interface SweepHandlerDeps {
  audit: FinalizeAuditDeps;
  logger: HandlerLogger;
  /** Run and error metrics, written at the end of each invocation. */
  metrics: AuditMetrics;
  close(): void;
}

/** The handler, over dependencies made once per container. */
export function createSweepHandler(deps: () => Promise<SweepHandlerDeps>) {
  return async (event: unknown, context?: InvocationContext): Promise<SweepResult> => {
    const d = await deps();
    d.logger.resetKeys();
    d.logger.appendKeys({ trigger: 'sweep', ...(context ? { requestId: context.awsRequestId } : {}) });
    try {
      parseEvent(SweepEventSchema, event, 'sweep schedule input');
      const result = await sweepAudits(d.audit, { limit: SWEEP_LIMIT });
      d.metrics.runsOverdue(result.runs.length);
      for (const run of result.runs) {
        if ('error' in run) {
          d.metrics.error(run.transient ? 'transient' : 'finalization-failed');
          d.logger.error('an overdue run could not be finalized', { runId: run.runId, errorMessage: run.error });
        } else {
          d.logger.info('overdue run looked at', outcomeFields(run.result));
        }
      }
      d.logger.info('sweep done', { runs: result.runs.length });
      return result;
    } catch (error) {
      d.logger.error('the sweep failed', errorFields(error));
      d.metrics.error(errorKindOf(error));
      throw error;
    } finally {
      d.metrics.flush();
      d.close();
    }
  };
}

/** Lambda entry point. */
export const handler = createSweepHandler(
  once(() => withMetrics(process.env, (metrics) => ({ ...finalizeDepsFromEnv(process.env, metrics), logger: createLogger() }))),
);
