import { newFailures } from '../core/compliance/regressions.ts';
import type { RunDigest } from '../core/compliance/run-digest.ts';
import type { Report } from '../core/report.ts';
import type { AuditEvent, AuditEvents } from '../ports/audit-events.ts';
import type { CompliancePublisher } from '../ports/compliance-publisher.ts';
import { RunHistoryError, type RunHistory } from '../ports/run-history.ts';
import type { AuditRun, RunRegistry, RunSummary } from '../ports/run-registry.ts';
import { publishCompliance, type PublishComplianceResult } from './publish-compliance.ts';
import { messageOf } from '../shared/error-code.ts';

// What a finalization tells the world once its run is DONE: the run-finished event, the regressions against the
// previous run of the same trigger, and each VM's findings as SSM Compliance items. None of it throws: the run
// is DONE already, whatever becomes of the telling.

/** What announcing a run reaches: the event bus, the stored digests, and the registry to find the previous run. */
export interface AnnounceDeps {
  registry: RunRegistry;
  events?: AuditEvents;
  history?: RunHistory;
}

/**
 * What was told of a DONE run: the kinds of event published, or why none was (the run stays DONE either
 * way: its report is written, and a repeated finalization of a DONE run does nothing more).
 */
export type Announced = { published: Array<AuditEvent['kind']> } | { error: string };

/** The regressions an event lists at most (EventBridge takes 256 KB an entry); `count` says how many there are. */
const MAX_REGRESSIONS_LISTED = 100;

/**
 * Tells that the run is DONE and, when the previous DONE run of the same trigger is readable, which
 * CRITICAL or HIGH failures it did not have. Never throws: the run is DONE already.
 */
export async function announce(
  deps: AnnounceDeps,
  done: { run: AuditRun; finishedAt: string; summary: RunSummary; report: { location: string; files: string[] }; digest: RunDigest },
): Promise<Announced> {
  if (!deps.events) return { published: [] };
  const { run, finishedAt, summary, report } = done;
  try {
    const events: AuditEvent[] = [
      { kind: 'run-finished', runId: run.runId, trigger: run.trigger, startedAt: run.startedAt, finishedAt, summary, report },
    ];
    const previous = await previousDigest(deps, run);
    if (previous) {
      const regressions = newFailures(previous, done.digest);
      if (regressions.length > 0) {
        events.push({
          kind: 'regression',
          runId: run.runId,
          previousRunId: previous.runId,
          finishedAt,
          count: regressions.length,
          regressions: regressions.slice(0, MAX_REGRESSIONS_LISTED),
          report,
        });
      }
    }
    await deps.events.publish(events);
    return { published: events.map((e) => e.kind) };
  } catch (error) {
    return { error: messageOf(error) };
  }
}

/** Runs looked at, newest first, to find the previous one of a trigger (api runs may come between scheduled ones). */
const PREVIOUS_RUN_PAGES = 5;
const PREVIOUS_RUN_PAGE_SIZE = 25;

/** The digest of the newest DONE run of the same trigger started before `run`; undefined when none is readable. */
async function previousDigest(deps: AnnounceDeps, run: AuditRun): Promise<RunDigest | undefined> {
  if (!deps.history) return undefined;
  let cursor: string | undefined;
  for (let page = 0; page < PREVIOUS_RUN_PAGES; page++) {
    const listed = await deps.registry.list({ limit: PREVIOUS_RUN_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
    const previous = listed.runs.find(
      (r) => r.runId !== run.runId && r.status === 'DONE' && r.trigger === run.trigger && r.startedAt < run.startedAt,
    );
    if (previous) {
      try {
        return await deps.history.readDigest(previous.runId);
      } catch (error) {
        // A previous run that cannot be read is no baseline: no regression is claimed against it.
        if (error instanceof RunHistoryError) return undefined;
        throw error;
      }
    }
    if (!listed.next) return undefined;
    cursor = listed.next;
  }
  return undefined;
}

/** Publishes the findings of a DONE run; a failure is reported, never thrown: the run is DONE already. */
export async function publishAfterDone(
  publisher: CompliancePublisher,
  report: Report,
): Promise<PublishComplianceResult | { error: string }> {
  try {
    return await publishCompliance(publisher, report);
  } catch (error) {
    return { error: messageOf(error) };
  }
}
