import { z } from 'zod';
import type { AuditMetrics } from '../lib/ports/audit-metrics.ts';
import { startAudit, type StartAuditDeps, type StartAuditResult } from '../lib/use-cases/start-audit.ts';
import { auditSideFromEnv } from './shared/aws.ts';
import { once } from './shared/config.ts';
import { errorKindOf, withMetrics } from './shared/metrics.ts';
import { parseEvent } from './shared/events.ts';
import { createLogger, errorFields, type HandlerLogger, type InvocationContext } from './shared/logger.ts';
import { compactTime } from '../lib/shared/identifiers.ts';

/**
 * EventBridge Scheduler → start a fleet audit. The schedule's input carries its scheduled time
 * (`<aws.scheduler.scheduled-time>`), which names the run: a delivery repeated by the scheduler starts nothing new.
 */
export const ScheduledStartEventSchema = z.object({
  trigger: z.literal('schedule'),
  scheduledTime: z.iso.datetime({ offset: true }),
});

export interface StartAuditHandlerDeps {
  audit: StartAuditDeps;
  collectForMs: number;
  toolVersion: string;
  targets: unknown;
  logger: HandlerLogger;
  /** Run and error metrics, written at the end of each invocation. */
  metrics: AuditMetrics;
  /** Ends the connections made for this invocation. */
  close(): void;
}

/** The handler, over dependencies made once per container. */
export function createStartAuditHandler(deps: () => Promise<StartAuditHandlerDeps>) {
  return async (event: unknown, context?: InvocationContext): Promise<StartAuditResult> => {
    const d = await deps();
    d.logger.resetKeys();
    d.logger.appendKeys({ trigger: 'schedule', ...(context ? { requestId: context.awsRequestId } : {}) });
    try {
      const input = parseEvent(ScheduledStartEventSchema, event, 'schedule input');
      const runId = `${compactTime(new Date(input.scheduledTime))}-scheduled`;
      d.logger.appendKeys({ runId });
      const result = await startAudit(d.audit, {
        runId,
        trigger: 'schedule',
        toolVersion: d.toolVersion,
        targets: d.targets,
        collectForMs: d.collectForMs,
      });
      if (result.kind === 'duplicate') d.logger.info('the audit of this schedule time is started already');
      else
        d.logger.info('audit started', {
          commands: result.commandIds.length,
          expected: result.expected,
          collected: result.collected,
          deadline: result.deadline,
        });
      return result;
    } catch (error) {
      d.logger.error('the audit could not be started', errorFields(error));
      d.metrics.error(errorKindOf(error));
      throw error;
    } finally {
      d.metrics.flush();
      d.close();
    }
  };
}

/** Lambda entry point. */
export const handler = createStartAuditHandler(
  once(() =>
    withMetrics(process.env, () => {
      const { storage, fleetConfig, store, registry, side } = auditSideFromEnv(process.env);
      return {
        // The calls counted by the composition root, as the command line counts them.
        audit: {
          registry,
          store,
          fleet: (runId: string) => side.fleet(runId),
          clock: () => new Date(),
          apiCalls: () => side.callCounts(),
        },
        collectForMs: fleetConfig.collectForMs,
        toolVersion: storage.toolVersion,
        targets: { tag: fleetConfig.tag },
        logger: createLogger(),
        close: () => side.close(),
      };
    }),
  ),
);
