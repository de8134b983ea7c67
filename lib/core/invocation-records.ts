import type { Invocation } from './evidence-bundle.ts';

/**
 * The rule "every targeted VM has exactly one invocation record": the records the audit makes for VMs SSM
 * gave no terminal result for (no command sent, no invocation listed, still running when the wait or the
 * run ended), and the order in which a stored record may only ever be replaced by a more final one.
 * Statuses are SSM's (ListCommandInvocations / GetCommandInvocation, "Understanding command statuses" in
 * the Systems Manager user guide).
 */

/** Terminal invocation statuses and status details as SSM reports them. */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);
const TERMINAL_DETAILS: ReadonlySet<string> = new Set([
  'Success',
  'Failed',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
  'Cancelled',
]);

/** Whether SSM will not change an invocation in this status any more. */
export function isTerminalInvocationStatus(status: string | undefined, details: string | undefined): boolean {
  return (status !== undefined && TERMINAL_STATUSES.has(status)) || (details !== undefined && TERMINAL_DETAILS.has(details));
}

/** Why the audit made a record itself: the value of `FleetAuditPlaceholder` on such a record. */
export type PlaceholderKind = 'not-sent' | 'never-listed' | 'not-targeted';

/** How final a record is; a stored record may only be replaced by one of a higher finality. */
export const INVOCATION_FINALITY = {
  /** No record. */
  none: 0,
  /** A record the audit made for a VM SSM listed no invocation for (never listed, not sent, finalized before listing). */
  placeholder: 1,
  /** SSM listed the invocation but it was still Pending, InProgress or Delayed when it was recorded. */
  inProgress: 2,
  /** SSM's terminal result (Success, Failed, TimedOut, Cancelled, Undeliverable…). */
  terminal: 3,
} as const;
export type InvocationFinality = (typeof INVOCATION_FINALITY)[keyof typeof INVOCATION_FINALITY];

/** none < placeholder < in progress < terminal. */
export function invocationFinality(inv: Invocation | undefined): InvocationFinality {
  if (inv === undefined) return INVOCATION_FINALITY.none;
  if (typeof inv.FleetAuditPlaceholder === 'string') return INVOCATION_FINALITY.placeholder;
  return isTerminalInvocationStatus(inv.Status, inv.StatusDetails) ? INVOCATION_FINALITY.terminal : INVOCATION_FINALITY.inProgress;
}

/** Whether `next` may replace the stored record `current` (strictly more final). */
export function mayReplaceInvocation(current: Invocation | undefined, next: Invocation): boolean {
  return invocationFinality(next) > invocationFinality(current);
}

/** An invocation SSM listed that was not terminal when the records were made. */
export interface PendingInvocation {
  instanceId: string;
  commandId: string;
  status: string;
  statusDetails?: string | undefined;
}

/** A command of the run: `instanceIds` is undefined when it was targeted by tag (or its targets are not known). */
export interface RunCommand {
  commandId: string;
  instanceIds?: readonly string[] | undefined;
  /** Whether SSM called the command terminal, so it will list no new invocation. */
  ended: boolean;
}

export interface MissingRecordsInput {
  /** Every VM that must end with exactly one record; records come back in this order, once per VM. */
  targeted: Iterable<string>;
  /** VMs that have a record already (handed over or stored): none is made for them. */
  recorded: ReadonlySet<string>;
  /** Invocations listed but not terminal, with their last status. */
  pending?: Iterable<PendingInvocation>;
  /** VMs no command was sent to, with why (not a managed node, refused by SendCommand). */
  notSent?: ReadonlyMap<string, string>;
  /** The run's commands. */
  commands?: readonly RunCommand[];
  /** What ends the wait for SSM: the collector's own wait, or the run being finalized. */
  moment: 'wait-ended' | 'finalized';
}

/**
 * The records for the targeted VMs still without one, in this order of what is known of each: SSM's last
 * non-terminal status; not sent, with why; never listed by the command sent to it by id; no invocation
 * from the commands that may have targeted it (by tag); no command at all.
 */
export function missingInvocationRecords(input: MissingRecordsInput): Invocation[] {
  const pending = new Map<string, PendingInvocation>();
  for (const p of input.pending ?? []) if (!pending.has(p.instanceId)) pending.set(p.instanceId, p);
  const commands = input.commands ?? [];
  const byId = new Map<string, RunCommand>();
  for (const command of commands) for (const id of command.instanceIds ?? []) if (!byId.has(id)) byId.set(id, command);
  const untargeted = commands.filter((c) => c.instanceIds === undefined);
  const finalized = input.moment === 'finalized';
  const made = new Set<string>();
  const records: Invocation[] = [];
  for (const instanceId of input.targeted) {
    if (input.recorded.has(instanceId) || made.has(instanceId)) continue;
    made.add(instanceId);
    const last = pending.get(instanceId);
    const why = input.notSent?.get(instanceId);
    const command = byId.get(instanceId);
    if (last) records.push(inProgressRecord(last, finalized));
    else if (why !== undefined) records.push(notSentRecord(instanceId, why));
    else if (command) records.push(neverListedRecord(instanceId, [command], finalized, false));
    else if (untargeted.length > 0) records.push(neverListedRecord(instanceId, untargeted, finalized, true));
    else records.push(notSentRecord(instanceId, 'no command was sent to this node in this run'));
  }
  return records;
}

function inProgressRecord(p: PendingInvocation, finalized: boolean): Invocation {
  const stage = p.statusDetails ?? p.status;
  return {
    InstanceId: p.instanceId,
    CommandId: p.commandId,
    Status: p.status,
    StatusDetails: stage,
    ResponseCode: -1,
    StandardOutputContent: '',
    StandardErrorContent: `${finalized ? 'the audit was finalized while this invocation was' : 'the wait for this invocation ended while it was'} ${stage}; SSM may still complete it`,
  };
}

/** StatusDetails Undeliverable is SSM's word for a node a command cannot reach. */
function notSentRecord(instanceId: string, why: string, commandId?: string): Invocation {
  return {
    InstanceId: instanceId,
    ...(commandId === undefined ? {} : { CommandId: commandId }),
    Status: 'Failed',
    StatusDetails: 'Undeliverable',
    ResponseCode: -1,
    StandardOutputContent: '',
    StandardErrorContent: why,
    FleetAuditPlaceholder: commandId === undefined ? 'not-sent' : 'not-targeted',
  };
}

function neverListedRecord(instanceId: string, commands: readonly RunCommand[], finalized: boolean, byTag: boolean): Invocation {
  const first = commands[0]!;
  const single = commands.length === 1 ? first.commandId : undefined;
  if (!finalized && commands.every((c) => c.ended)) {
    const why =
      single === undefined
        ? `none of the run's ${commands.length} commands created an invocation for this node`
        : byTag
          ? `command ${single}, targeted by tag, created no invocation for this node`
          : `command ${single} ended without an invocation for this node`;
    return { ...notSentRecord(instanceId, why, first.commandId), FleetAuditPlaceholder: byTag ? 'not-targeted' : 'never-listed' };
  }
  const named =
    commands.length <= 3
      ? `command${commands.length === 1 ? '' : 's'} ${commands.map((c) => c.commandId).join(', ')}`
      : `any of the run's ${commands.length} commands`;
  return {
    InstanceId: instanceId,
    ...(single === undefined ? {} : { CommandId: single }),
    Status: 'Pending',
    StatusDetails: 'Pending',
    ResponseCode: -1,
    StandardOutputContent: '',
    StandardErrorContent: finalized
      ? `the audit was finalized before an invocation was listed for this node (${named})`
      : `the wait ended before ${named} listed an invocation for this node`,
    FleetAuditPlaceholder: 'never-listed',
  };
}
