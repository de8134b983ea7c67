import { randomUUID } from 'node:crypto';
import {
  RunCursorError,
  type AuditRun,
  type FinalizationClaim,
  type NewRun,
  type RunRegistry,
  type RunStatus,
  type RunSummary,
} from '../ports/run-registry.ts';
import { mergeCallCounts } from '../shared/call-counts.ts';

/**
 * The run registry in memory, for `fleet-audit serve` on one machine: the same transitions and guards as
 * the DynamoDB registry, each checked and applied in one step (JavaScript runs one at a time).
 */
export class MemoryRunRegistry implements RunRegistry {
  readonly #runs = new Map<string, AuditRun & { lease?: { token: string; until: number } }>();
  readonly #commands = new Map<string, string>();

  async create(run: NewRun): Promise<boolean> {
    if (this.#runs.has(run.runId)) return false;
    this.#runs.set(run.runId, {
      runId: run.runId,
      status: 'SENDING',
      trigger: run.trigger,
      startedAt: run.startedAt,
      deadline: run.deadline,
      commandIds: [],
      expectedCount: 0,
      collectedCount: 0,
      attempts: 0,
      location: run.location,
    });
    return true;
  }

  async get(runId: string): Promise<AuditRun | undefined> {
    const run = this.#runs.get(runId);
    if (!run) return undefined;
    const { lease: _lease, ...visible } = run;
    return structuredClone(visible);
  }

  async findRunByCommand(commandId: string): Promise<string | undefined> {
    return this.#commands.get(commandId);
  }

  async markCollecting(
    runId: string,
    sent: { commandIds: string[]; expectedCount: number; collectedCount: number; deadline?: string },
  ): Promise<boolean> {
    const run = this.#runs.get(runId);
    if (run?.status !== 'SENDING') return false;
    Object.assign(run, {
      status: 'COLLECTING',
      commandIds: [...sent.commandIds],
      expectedCount: sent.expectedCount,
      collectedCount: sent.collectedCount,
      ...(sent.deadline ? { deadline: sent.deadline } : {}),
    });
    for (const id of sent.commandIds) this.#commands.set(id, runId);
    return true;
  }

  async recordProgress(runId: string, collectedCount: number): Promise<void> {
    const run = this.#runs.get(runId);
    if (run && collectedCount > run.collectedCount) run.collectedCount = collectedCount;
  }

  async claimFinalization(runId: string, now: Date, leaseUntil: Date): Promise<FinalizationClaim | undefined> {
    const run = this.#runs.get(runId);
    if (!run) return undefined;
    const free = run.status === 'COLLECTING' || (run.status === 'ANALYZING' && (run.lease?.until ?? 0) <= now.getTime());
    if (!free) return undefined;
    const claim = { token: randomUUID(), attempt: run.attempts + 1, claim: (run.claims ?? 0) + 1 };
    Object.assign(run, {
      status: 'ANALYZING',
      attempts: claim.attempt,
      claims: claim.claim,
      lease: { token: claim.token, until: leaseUntil.getTime() },
    });
    return claim;
  }

  async releaseFinalization(runId: string, claim: FinalizationClaim, error: string, options: { transient?: boolean } = {}): Promise<void> {
    const run = this.#held(runId, claim);
    // A transient failure gives its attempt back.
    if (run)
      Object.assign(run, {
        status: 'COLLECTING',
        error,
        lease: undefined,
        ...(options.transient ? { attempts: Math.max(0, run.attempts - 1) } : {}),
      });
  }

  async addApiCalls(runId: string, calls: Readonly<Record<string, number>>): Promise<void> {
    const run = this.#runs.get(runId);
    if (!run || Object.keys(calls).length === 0) return;
    run.apiCalls = mergeCallCounts(run.apiCalls ?? {}, calls);
  }

  async recordNamespaces(runId: string, namespaces: readonly string[]): Promise<void> {
    const run = this.#runs.get(runId);
    if (run) run.namespaces = [...new Set([...(run.namespaces ?? []), ...namespaces])].sort();
  }

  async complete(
    runId: string,
    claim: FinalizationClaim,
    result: { finishedAt: string; collectedCount: number; summary: RunSummary },
  ): Promise<boolean> {
    const run = this.#held(runId, claim);
    if (!run) return false;
    Object.assign(run, {
      status: 'DONE',
      finishedAt: result.finishedAt,
      collectedCount: result.collectedCount,
      summary: structuredClone(result.summary),
      lease: undefined,
    });
    delete run.error;
    return true;
  }

  async fail(
    runId: string,
    failure: { error: string; finishedAt: string },
    from: readonly RunStatus[],
    claim?: FinalizationClaim,
  ): Promise<boolean> {
    const run = claim ? this.#held(runId, claim) : this.#runs.get(runId);
    if (!run || !from.includes(run.status)) return false;
    Object.assign(run, { status: 'FAILED', error: failure.error, finishedAt: failure.finishedAt, lease: undefined });
    return true;
  }

  async listOverdue(now: Date, limit: number): Promise<AuditRun[]> {
    const open = [...this.#runs.values()].filter(
      (r) => r.status !== 'DONE' && r.status !== 'FAILED' && Date.parse(r.deadline) <= now.getTime(),
    );
    open.sort((a, b) => Date.parse(a.deadline) - Date.parse(b.deadline));
    return Promise.all(open.slice(0, limit).map(async (r) => (await this.get(r.runId))!));
  }

  async list(page: { limit: number; cursor?: string }): Promise<{ runs: AuditRun[]; next?: string }> {
    const ordered = [...this.#runs.values()].sort((a, b) => compareNewestFirst(a, b));
    let from = 0;
    if (page.cursor !== undefined) {
      const after = decodeURIComponent(page.cursor);
      from = ordered.findIndex((r) => r.runId === after) + 1;
      if (from === 0) throw new RunCursorError('the cursor is not one this API handed out');
    }
    const slice = ordered.slice(from, from + page.limit);
    const runs = await Promise.all(slice.map(async (r) => (await this.get(r.runId))!));
    const more = from + page.limit < ordered.length;
    return { runs, ...(more && slice.length > 0 ? { next: encodeURIComponent(slice.at(-1)!.runId) } : {}) };
  }

  #held(runId: string, claim: FinalizationClaim) {
    const run = this.#runs.get(runId);
    return run?.status === 'ANALYZING' && run.lease?.token === claim.token ? run : undefined;
  }
}

function compareNewestFirst(a: AuditRun, b: AuditRun): number {
  return a.startedAt === b.startedAt ? (a.runId < b.runId ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1;
}
