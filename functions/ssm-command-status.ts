import { z } from 'zod';
import type { AuditMetrics } from '../lib/ports/audit-metrics.ts';
import { finalizeCommand, type FinalizeAuditDeps, type FinalizeAuditResult } from '../lib/use-cases/finalize-audit.ts';
import { once } from './shared/config.ts';
import { errorKindOf, withMetrics } from './shared/metrics.ts';
import { parseEvent } from './shared/events.ts';
import { finalizeDepsFromEnv } from './shared/finalize-deps.ts';
import { createLogger, errorFields, type HandlerLogger, type InvocationContext } from './shared/logger.ts';
import { outcomeFields } from './shared/outcomes.ts';

/**
 * EventBridge rule on SSM's "EC2 Command Status-change Notification" for our document → collect what
 * ended and finalize the run the command belongs to (found through the run registry).
 */
export const CommandStatusEventSchema = z.object({
  source: z.literal('aws.ssm'),
  'detail-type': z.literal('EC2 Command Status-change Notification'),
  detail: z.looseObject({
    'command-id': z.string().min(1).max(64),
    'document-name': z.string().min(1),
    status: z.string().min(1),
  }),
});

/** Command statuses after which the command's invocations change no more. */
const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

export type CommandStatusResult =
  FinalizeAuditResult | { kind: 'unknown-command'; commandId: string } | { kind: 'ignored'; status: string };

export interface CommandStatusHandlerDeps {
  audit: FinalizeAuditDeps;
  logger: HandlerLogger;
  /** Run and error metrics, written at the end of each invocation. */
  metrics: AuditMetrics;
  close(): void;
}

/** The handler, over dependencies made once per container. */
export function createCommandStatusHandler(deps: () => Promise<CommandStatusHandlerDeps>) {
  return async (event: unknown, context?: InvocationContext): Promise<CommandStatusResult> => {
    const d = await deps();
    d.logger.resetKeys();
    d.logger.appendKeys({ trigger: 'ssm-command-status', ...(context ? { requestId: context.awsRequestId } : {}) });
    try {
      const { detail } = parseEvent(CommandStatusEventSchema, event, 'SSM command status event');
      const commandId = detail['command-id'];
      d.logger.appendKeys({ commandId, commandStatus: detail.status });
      if (!TERMINAL.has(detail.status)) {
        d.logger.info('the command is not done yet: nothing to collect');
        return { kind: 'ignored', status: detail.status };
      }
      const result = await finalizeCommand(d.audit, { commandId });
      if (result.kind === 'unknown-command')
        d.logger.warn('no audit run is registered for this command; the sweep finalizes its run if it has one');
      else d.logger.info('run looked at', outcomeFields(result));
      return result;
    } catch (error) {
      d.logger.error('the run of the command could not be finalized', errorFields(error));
      d.metrics.error(errorKindOf(error));
      throw error;
    } finally {
      d.metrics.flush();
      d.close();
    }
  };
}

/** Lambda entry point. */
export const handler = createCommandStatusHandler(
  once(() => withMetrics(process.env, (metrics) => ({ ...finalizeDepsFromEnv(process.env, metrics), logger: createLogger() }))),
);
