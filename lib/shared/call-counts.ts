/**
 * API calls per service and operation (`SSM.SendCommand`, `Kubernetes.list workloadentries`), as the
 * composition root counts them and a run's manifest records them.
 */
export type CallCounts = Record<string, number>;

/** The counts of several sources summed in one record, keys sorted, as the manifest records them. */
export function mergeCallCounts(...sources: readonly CallCounts[]): CallCounts {
  const merged: CallCounts = {};
  for (const source of sources) for (const [key, n] of Object.entries(source)) merged[key] = (merged[key] ?? 0) + n;
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * What a running count gained since `before` was taken, without the operations that gained nothing: the
 * calls of one piece of work, when the counter lives longer than the work (a function's container).
 */
function callCountsSince(before: CallCounts, now: CallCounts): CallCounts {
  const gained: CallCounts = {};
  for (const [key, n] of Object.entries(now)) if (n > (before[key] ?? 0)) gained[key] = n - (before[key] ?? 0);
  return mergeCallCounts(gained);
}

/**
 * From now on, the calls a running count gains (callCountsSince the count taken now); undefined throughout
 * when nothing counts. A start or a finalization measures its own calls with it.
 */
export function countCallsFromNow(count: (() => CallCounts) | undefined): () => CallCounts | undefined {
  if (!count) return () => undefined;
  const before = count();
  return () => callCountsSince(before, count());
}

/** The calls of every operation, added up. */
export function totalCalls(counts: CallCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
