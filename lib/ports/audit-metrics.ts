/** What one finished run measured: the fleet's counts, how long the run took and the calls it cost. */
export interface RunMeasures {
  runId: string;
  vms: number;
  compliant: number;
  nonCompliant: number;
  unknown: number;
  /** From the run's start to the end of its finalization. */
  durationSeconds: number;
  /** The AWS API calls the finalization made (listing and reading the run's invocations). */
  apiCalls: number;
}

/**
 * The kinds of failure counted, one metric each: a bounded set, so that a dashboard and an alarm can name
 * them, and an error's text never becomes a metric dimension.
 */
export const ERROR_KINDS = [
  'config',
  'invalid-event',
  'transient',
  'finalization-failed',
  'run-failed',
  'events-not-published',
  'unexpected',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** The operational metrics of the audit (CloudWatch, through embedded metric format, in the functions). */
export interface AuditMetrics {
  /** A run reached DONE. */
  runFinished(measures: RunMeasures): void;
  /** The open runs a sweep found past their deadline. */
  runsOverdue(count: number): void;
  /** One failure of this kind. */
  error(kind: ErrorKind): void;
  /** Writes what is recorded and not written yet; called once at the end of each invocation. */
  flush(): void;
}
