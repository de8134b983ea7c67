import { PowertoolsAuditMetrics } from '../adapters/powertools-audit-metrics.ts';
import type { AuditMetrics } from '../ports/audit-metrics.ts';

/** The functions' metrics, in embedded metric format on standard output, in the namespace given. */
export function composeAuditMetrics(options: { namespace: string; serviceName: string }): AuditMetrics {
  return new PowertoolsAuditMetrics(options);
}
