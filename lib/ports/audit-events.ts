import type { Regression } from '../core/compliance/regressions.ts';
import type { RunSummary } from './run-registry.ts';

/** Where a run's report files are. */
export interface ReportLocation {
  /** The run's folder, e.g. `s3://<bucket>/runs/<run id>/`. */
  location: string;
  /** Each report file written. */
  files: string[];
}

/** A run reached DONE. */
export interface RunFinishedEvent {
  kind: 'run-finished';
  runId: string;
  trigger: string;
  startedAt: string;
  finishedAt: string;
  summary: RunSummary;
  report: ReportLocation;
}

/** A run failed at CRITICAL or HIGH where the previous run of its trigger did not. */
export interface RegressionEvent {
  kind: 'regression';
  runId: string;
  previousRunId: string;
  finishedAt: string;
  /** How many new failures there are; `regressions` lists the first of them when they are many. */
  count: number;
  regressions: Regression[];
  report: ReportLocation;
}

export type AuditEvent = RunFinishedEvent | RegressionEvent;

/** Tells the world of finished runs and regressions (EventBridge, in the deployment). */
export interface AuditEvents {
  /** Publishes the events; throws AuditEventsError when one of them was not accepted. */
  publish(events: readonly AuditEvent[]): Promise<void>;
}

/** An event was not accepted; the message names its kind and the reason given. */
export class AuditEventsError extends Error {
  override name = 'AuditEventsError';
}
