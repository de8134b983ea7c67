import type { SSMClientConfig } from '@aws-sdk/client-ssm';

/** Which managed nodes the audit covers. */
export type SsmTarget =
  /** Nodes carrying tag `key` (with one of `values`; any value when absent). */
  | { kind: 'tag'; key: string; values?: string[] }
  /** An explicit list of node ids (EC2 `i-` and hybrid `mi-`). */
  | { kind: 'instanceIds'; instanceIds: string[] };

export interface PollOptions {
  /** First wait after sending (default 2,000 ms). */
  initialDelayMs?: number;
  /** Longest wait between two polls (default 20,000 ms). */
  maxDelayMs?: number;
  /** Growth of the wait per poll (default 1.5). */
  multiplier?: number;
}

export interface RetryOptions {
  attempts?: number;
  initialDelayMs?: number;
}

/** One round of waiting, reported before its calls are made. */
export interface PollEvent {
  round: number;
  pendingCommands: number;
  pendingInvocations: number;
}

export interface SsmFleetRunnerOptions {
  /** The AWS region; by default the SDK's chain (AWS_REGION, then the profile's configuration). */
  region?: string;
  /** Default: the SDK's default credential chain. */
  credentials?: SSMClientConfig['credentials'];
  /** Endpoint overrides (the simulator, VPC endpoints). */
  ssmEndpoint?: string;
  s3Endpoint?: string;
  /** The bucket's region when it differs from `region`. */
  s3Region?: string;
  forcePathStyle?: boolean;
  /** The evidence bucket the agent writes output to; without it the API copies (cut at 24,000 bytes) are used. */
  bucket?: string;
  /** The run's prefix in the bucket, e.g. `runs/<runId>/ssm-output`. */
  keyPrefix?: string;
  /** Names the run on the command (cut to SSM's 100 characters). */
  comment?: string;
  documentName: string;
  documentVersion?: string;
  /** The document parameter carrying the execution timeout; null when the document has none. */
  executionTimeoutParameter?: string | null;
  target: SsmTarget;
  /** For a tag target, send one command with Targets by tag instead of ≤ 50 instance ids a call (default true). */
  sendByTargets?: boolean;
  /** Attach tags of hybrid (`mi-`) nodes with ListTagsForResource, one call per node (default false). */
  listTags?: boolean;
  /** Default '50'. */
  maxConcurrency?: string;
  /** Delivery timeout, SendCommand TimeoutSeconds (default 600). */
  deliveryTimeoutSeconds?: number;
  /** Execution timeout handed to the document (default 600). */
  executionTimeoutSeconds?: number;
  /** How long to wait for invocations to end (default: both timeouts and two minutes). */
  waitTimeoutMs?: number;
  poll?: PollOptions;
  /**
   * Retries of a NoSuchKey read (the agent uploads after the invocation ends) and of InvocationDoesNotExist:
   * backoff from `initialDelayMs` (default 500 ms); `attempts` caps the reads (S3: no cap but the time, see
   * `outputWaitMs`; GetCommandInvocation: default 5).
   */
  outputRetry?: RetryOptions;
  /** How long after an invocation's end its S3 object is waited for before the API copy is used (default 60,000 ms). */
  outputWaitMs?: number;
  /** Retries of throttled, 5xx and timed-out calls on top of the SDK's own (default 4 attempts from 1,000 ms). */
  apiRetry?: RetryOptions;
  /** SDK attempts per call, adaptive retry mode (default 5). */
  maxAttempts?: number;
  requestTimeoutMs?: number;
  /** Concurrent S3 reads (default 8). */
  s3Concurrency?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** A float in [0, 1), for jitter. */
  random?: () => number;
  onPoll?: (event: PollEvent) => void;
}

/** A command sent to the fleet; `instanceIds` is undefined for a command targeted by tag. */
export interface SentCommand {
  commandId: string;
  instanceIds: string[] | undefined;
  requestedAt: Date;
}

export interface CollectResult {
  /** Instances handed over by this collection. */
  collected: string[];
  /** Invocations not yet terminal, with their current status. */
  pending: Array<{ commandId: string; instanceId: string; status: string; statusDetails: string | undefined }>;
}
