import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { ReportFiles } from '../ports/report-files.ts';
import type { RunHistory } from '../ports/run-history.ts';
import type { RunRegistry, RunStatus } from '../ports/run-registry.ts';

/** Which VMs an on-demand audit reaches. */
export type AuditTarget =
  | { kind: 'default' }
  | { kind: 'instanceIds'; instanceIds: string[] }
  | { kind: 'tag'; key: string; values: string[] }
  | { kind: 'namespace'; namespace: string };

export type StartRunResult =
  | { kind: 'started'; status: RunStatus }
  /** A run with this id exists already. */
  | { kind: 'duplicate' }
  /** This deployment cannot audit that target; `detail` says why (answered 422). */
  | { kind: 'refused'; detail: string };

/** The lines the API logs; Powertools' logger in Lambda, the console under `fleet-audit serve`. */
export interface ApiLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
  appendKeys(keys: Record<string, unknown>): void;
  resetKeys(): void;
}

/** What the HTTP API needs; the Lambda function and `fleet-audit serve` each provide their own. */
export interface HttpApiDeps {
  registry: RunRegistry;
  reports: ReportFiles;
  history: RunHistory;
  /** Starts an audit of the target under this run id (in the background where it runs long). */
  startRun(runId: string, target: AuditTarget): Promise<StartRunResult>;
  /** A fresh run id for an on-demand audit. */
  newRunId(): string;
  /** Where `Idempotency-Key` records are kept; without one the header is refused. */
  idempotency: BasePersistenceLayer;
  /** The largest body sent as is; a larger report is answered with a redirect to a link, when there is one. */
  maxBodyBytes: number;
  logger: ApiLogger;
  close(): void;
}
