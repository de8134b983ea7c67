import type { Invocation } from './evidence-bundle.ts';
import { isTerminalInvocationStatus } from './invocation-records.ts';

/**
 * How final a stored invocation record is. A stored record may only ever be replaced by a more final
 * one, so a late or repeated writer can never undo what a faster one found:
 *
 *   none < placeholder < in progress < terminal
 *
 * - placeholder: made up at finalization for a VM no command listed an invocation for (no CommandId, or
 *   FleetAuditPlaceholder `never-listed`);
 * - in progress: an invocation SSM listed but had not ended (Pending, InProgress, Delayed…);
 * - terminal: an invocation that ended (SSM's terminal statuses and details), or a node that could not be
 *   sent to (Failed/Undeliverable): nothing SSM says later changes it.
 *
 * Status names are SSM's (CommandInvocation Status and StatusDetails, AWS Systems Manager API reference,
 * "Understanding command statuses").
 */
export const RECORD_FINALITY = { none: 0, placeholder: 1, inProgress: 2, terminal: 3 } as const;
export type RecordFinality = (typeof RECORD_FINALITY)[keyof typeof RECORD_FINALITY];

/** The finality of a record; `undefined` (nothing stored) is none. */
export function recordFinality(
  invocation: (Pick<Invocation, 'Status' | 'StatusDetails' | 'FleetAuditPlaceholder'> & { CommandId?: unknown }) | undefined,
): RecordFinality {
  if (invocation === undefined) return RECORD_FINALITY.none;
  // Made up for a VM no command listed an invocation for, even when it names the one command sent.
  if (invocation.FleetAuditPlaceholder === 'never-listed') return RECORD_FINALITY.placeholder;
  if (isTerminalInvocationStatus(invocation.Status, invocation.StatusDetails)) return RECORD_FINALITY.terminal;
  const commandId = invocation.CommandId;
  return typeof commandId === 'string' && commandId !== '' ? RECORD_FINALITY.inProgress : RECORD_FINALITY.placeholder;
}

/** True when a record of finality `next` may replace a stored one of finality `stored`: strictly more final. */
export function mayReplaceRecord(stored: RecordFinality, next: RecordFinality): boolean {
  return next > stored;
}

/**
 * True when a finalization's fence write of finality `next` may replace a stored record: a finalization
 * re-records a VM that is still not terminal (the same or a higher level, in a new text), which changes the
 * stored object so that no writer that looked at it before the run was sealed can replace it afterwards.
 * A terminal record is never replaced.
 */
export function mayFenceRecord(stored: RecordFinality, next: RecordFinality): boolean {
  return stored < RECORD_FINALITY.terminal && next >= stored;
}
