import { composeAuditMetrics } from '../../lib/compose/audit-metrics.ts';
import { isTransientError } from '../../lib/compose/aws-side.ts';
import type { AuditMetrics, ErrorKind } from '../../lib/ports/audit-metrics.ts';
import { FinalizationError } from '../../lib/use-cases/finalize-audit.ts';
import { ConfigError, MetricsConfigSchema, parseConfig } from './config.ts';
import { InvalidEventError } from './events.ts';

/** The functions' metrics (embedded metric format on standard output), in the namespace the stage configures. */
export function metricsFromEnv(env: Record<string, string | undefined>): AuditMetrics {
  return composeAuditMetrics(parseConfig(MetricsConfigSchema, env));
}

/** The kind an error that ended an invocation is counted as. */
export function errorKindOf(error: unknown): ErrorKind {
  if (error instanceof ConfigError) return 'config';
  if (error instanceof InvalidEventError) return 'invalid-event';
  if (error instanceof FinalizationError) return error.transient ? 'transient' : 'finalization-failed';
  return isTransientError(error) ? 'transient' : 'unexpected';
}

/**
 * Makes a function's dependencies; a configuration that does not hold is counted (errorKind `config`) before
 * it fails the invocation, when the metrics themselves could be made.
 */
export async function withMetrics<T>(
  env: Record<string, string | undefined>,
  make: (metrics: AuditMetrics) => T | Promise<T>,
): Promise<T & { metrics: AuditMetrics }> {
  const metrics = metricsFromEnv(env);
  try {
    return { ...(await make(metrics)), metrics };
  } catch (error) {
    metrics.error(errorKindOf(error));
    metrics.flush();
    throw error;
  }
}
