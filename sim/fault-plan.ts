/**
 * Faults the simulated endpoints inject on chosen requests, the same way for every protocol: a rule names
 * the operation it hits and answers a burst of its requests with a throttle, a server error or no answer
 * at all. Each endpoint turns the kind into its protocol's shape (SSM: ThrottlingException /
 * InternalServerError; S3: SlowDown / InternalError; Kubernetes: 429 / 500 Status; istiod: 503 / 500).
 * A burst is counted, not timed, so a test knows exactly which requests fail whatever the machine's speed.
 */

export const SIM_FAULT_KINDS = ['throttle', 'server-error', 'timeout'] as const;
/**
 * - throttle: the service's "slow down" answer;
 * - server-error: a 5xx;
 * - timeout: the request is read but never answered, until the client gives up and closes the connection
 *   (a client without a request timeout waits until the endpoint closes).
 */
export type SimFaultKind = (typeof SIM_FAULT_KINDS)[number];

export interface SimFaultRule {
  /**
   * The requests it hits: an SSM operation (`SendCommand`), an S3 operation (`GetObject`, `PutObject`,
   * `ListObjectsV2`), a Kubernetes list (`list workloadentries`), or istiod's `syncz` (`syncz/<pod>` for one replica).
   */
  target: string;
  kind: SimFaultKind;
  /** Only requests whose path or key contains this text (e.g. `/ssm-output/`, `/evidence/invocations/`). */
  where?: string;
  /** Matching requests let through before the burst (default 0). */
  after?: number;
  /** Matching requests in the burst, one after the other (default 1). */
  times?: number;
}

export interface SimFaultInjected {
  target: string;
  kind: SimFaultKind;
  /** The path or key of the request it hit. */
  where: string;
}

/** The rules of one endpoint, with what each has injected so far. */
export class SimFaultPlan {
  #rules: Array<{ rule: SimFaultRule; seen: number }> = [];
  readonly #injected: SimFaultInjected[] = [];

  constructor(rules: readonly SimFaultRule[] = []) {
    this.arm(rules);
  }

  /** Replaces the rules, their counts starting afresh: one running endpoint can serve one scenario after another. */
  arm(rules: readonly SimFaultRule[]): void {
    for (const rule of rules) {
      if (!SIM_FAULT_KINDS.includes(rule.kind)) throw new Error(`unknown simulated fault kind ${JSON.stringify(rule.kind)}`);
      if ((rule.times ?? 1) < 1 || (rule.after ?? 0) < 0) throw new Error(`a fault rule for ${rule.target} needs times ≥ 1 and after ≥ 0`);
    }
    this.#rules = rules.map((rule) => ({ rule, seen: 0 }));
  }

  /**
   * The fault for one request of `target` at `where`, if a rule's burst covers it. Every rule that
   * matches counts the request, so two rules on one target keep their own bursts.
   */
  take(target: string, where = ''): SimFaultKind | undefined {
    let fault: SimFaultKind | undefined;
    for (const entry of this.#rules) {
      const { rule } = entry;
      const hits = rule.target === target || (rule.target.includes('/') === false && target.startsWith(`${rule.target}/`));
      if (!hits || (rule.where !== undefined && !where.includes(rule.where))) continue;
      const index = entry.seen++;
      const after = rule.after ?? 0;
      if (fault === undefined && index >= after && index < after + (rule.times ?? 1)) fault = rule.kind;
    }
    if (fault !== undefined) this.#injected.push({ target, kind: fault, where });
    return fault;
  }

  /** Every fault injected so far, in order. */
  injected(): SimFaultInjected[] {
    return [...this.#injected];
  }
}

/**
 * Leaves a request unanswered until its connection closes (the client timed out, or the endpoint is
 * closing): what a lost answer looks like to a client.
 */
export function holdUnanswered(res: { once(event: 'close', listener: () => void): unknown; destroyed?: boolean }): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => res.once('close', resolve));
}
