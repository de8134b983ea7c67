import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AuditMetrics, ErrorKind, RunMeasures } from '../ports/audit-metrics.ts';

/** The metric names, as dashboards and the stack's alarms (infra/resources/alarms.yml) name them. */
export const METRIC = {
  runsFinished: 'RunsFinished',
  vmsAudited: 'VmsAudited',
  vmsCompliant: 'VmsCompliant',
  vmsNonCompliant: 'VmsNonCompliant',
  vmsUnknown: 'VmsUnknown',
  runDuration: 'RunDuration',
  apiCalls: 'ApiCalls',
  runsOverdue: 'RunsOverdue',
  errors: 'Errors',
} as const;

/** The dimension that tells the kinds of error apart (one metric each: Errors × errorKind). */
export const ERROR_KIND_DIMENSION = 'errorKind';

/**
 * AuditMetrics through Powertools Metrics: CloudWatch embedded metric format, one JSON line on standard
 * output per record, which Lambda's log delivery turns into metrics (no PutMetricData call, no permission).
 * Every metric has the dimension `service` (the service name).
 */
export class PowertoolsAuditMetrics implements AuditMetrics {
  readonly #metrics: Metrics;

  constructor(options: { namespace: string; serviceName: string }) {
    this.#metrics = new Metrics({ namespace: options.namespace, serviceName: options.serviceName });
  }

  runFinished(m: RunMeasures): void {
    // Written at once, so that the record carries this run's id (metadata, not a dimension) and no other's.
    this.#metrics.addMetadata('runId', m.runId);
    this.#metrics.addMetric(METRIC.runsFinished, MetricUnit.Count, 1);
    this.#metrics.addMetric(METRIC.vmsAudited, MetricUnit.Count, m.vms);
    this.#metrics.addMetric(METRIC.vmsCompliant, MetricUnit.Count, m.compliant);
    this.#metrics.addMetric(METRIC.vmsNonCompliant, MetricUnit.Count, m.nonCompliant);
    this.#metrics.addMetric(METRIC.vmsUnknown, MetricUnit.Count, m.unknown);
    this.#metrics.addMetric(METRIC.runDuration, MetricUnit.Seconds, m.durationSeconds);
    this.#metrics.addMetric(METRIC.apiCalls, MetricUnit.Count, m.apiCalls);
    this.#metrics.publishStoredMetrics();
  }

  runsOverdue(count: number): void {
    this.#metrics.addMetric(METRIC.runsOverdue, MetricUnit.Count, count);
  }

  error(kind: ErrorKind): void {
    // A record of its own: the errorKind dimension must not apply to the other metrics of the invocation.
    const single = this.#metrics.singleMetric();
    single.addDimension(ERROR_KIND_DIMENSION, kind);
    single.addMetric(METRIC.errors, MetricUnit.Count, 1);
  }

  flush(): void {
    if (this.#metrics.hasStoredMetrics()) this.#metrics.publishStoredMetrics();
  }
}
