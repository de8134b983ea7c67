/** A run id: one path segment (a directory name, an S3 key segment), so it can never climb out of the store. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** True for a run id that is safe as one path segment. */
export function isRunId(runId: string): boolean {
  return RUN_ID.test(runId);
}
