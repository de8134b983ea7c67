import { ReportSchema, type Report } from '../core/report.ts';
import type { AuditRun, RunRegistry, StoredRuns } from '../ports/run-registry.ts';
import { firstIssueText } from '../shared/zod-issues.ts';

export type AuditReportLookup =
  | { kind: 'report'; report: Report }
  | { kind: 'unknown-run'; runId: string }
  /** The run exists but has no report (yet, or ever: FAILED). */
  | { kind: 'no-report'; runId: string; status: AuditRun['status'] }
  /** The stored report does not hold to the report schema: it is not handed out. */
  | { kind: 'invalid-report'; runId: string; problem: string };

/** One run's status, as the registry keeps it. */
export async function getAuditRun(deps: { registry: RunRegistry }, runId: string): Promise<AuditRun | undefined> {
  return deps.registry.get(runId);
}

/** A run's report.json, read back through the report schema: a stored report is untrusted input. */
export async function getAuditReport(deps: { registry: RunRegistry; store: StoredRuns }, runId: string): Promise<AuditReportLookup> {
  const text = await deps.store.readReportText(runId);
  if (text === undefined) {
    const run = await deps.registry.get(runId);
    return run ? { kind: 'no-report', runId, status: run.status } : { kind: 'unknown-run', runId };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid-report', runId, problem: `report.json is not valid JSON (${(error as Error).message})` };
  }
  const parsed = ReportSchema.safeParse(raw);
  if (!parsed.success) {
    return { kind: 'invalid-report', runId, problem: `report.json: ${firstIssueText(parsed.error)}` };
  }
  if (parsed.data.runId !== runId)
    return {
      kind: 'invalid-report',
      runId,
      problem: `report.json holds run ${JSON.stringify(parsed.data.runId)}, not ${JSON.stringify(runId)}`,
    };
  return { kind: 'report', report: parsed.data };
}
