import { ListCommandInvocationsCommand, ListCommandsCommand } from '@aws-sdk/client-ssm';
import { isTerminalInvocationStatus, missingInvocationRecords, type PendingInvocation } from '../../core/invocation-records.ts';
import { parseWith } from './aws-call.ts';
import { forEachBounded } from '../../shared/bounded-concurrency.ts';
import { PAGE_SIZE, type Deliver, type SsmContext } from './context.ts';
import { recordOf } from './output.ts';
import { ListedCommandSchema, ListedInvocationSchema, type ListedCommand, type ListedInvocation } from './schemas.ts';
import type { CollectResult, SentCommand } from './types.ts';

/**
 * Waiting for the invocations of the run's commands. SSM offers no listing of "what changed since": the
 * ExecutionStage filter is for ListCommands only, and a Status filter of ListCommandInvocations takes one
 * status, so "terminal and not yet collected" cannot be asked for. A round therefore looks at ListCommands'
 * counts first (one call for all the run's commands) and lists a command's invocations only when
 * something ended since the last look and the listing is worth its pages: a one-page command (≤ 50
 * instance ids) always is; a larger one (by tag) when it is terminal, or when at least half of a
 * listing's worth of its invocations ended since (or all those still open did). A 1,000-VM command by
 * tag is listed about twice instead of every round.
 */

const TERMINAL_COMMAND_STATUSES: ReadonlySet<string> = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

interface CommandState {
  sent: SentCommand;
  /** Last status seen of each invocation not yet handed over (output fields dropped to keep memory flat). */
  lastSeen: Map<string, { Status: string | undefined; StatusDetails: string | undefined }>;
  /** Instances seen in this command's listings. */
  seen: Set<string>;
  /** Whether ListCommands called the command terminal. */
  terminal: boolean;
  /** How many invocations ListCommands says the command has. */
  targetCount: number | undefined;
  done: boolean;
}

function newState(sent: SentCommand): CommandState {
  return { sent, lastSeen: new Map(), seen: new Set(), terminal: false, targetCount: undefined, done: false };
}

/**
 * Polls until every invocation of the commands is terminal or the wait times out, handing each over as
 * soon as it is collected; afterwards every instance of `waitingFor` still without a record gets one.
 */
export async function waitForCommands(
  ctx: SsmContext,
  sent: SentCommand[],
  deliver: Deliver,
  waitingFor: string[],
  expected: string[] | undefined,
): Promise<void> {
  const states = sent.map(newState);
  const deadline = ctx.now() + waitTimeoutMs(ctx);
  const poll = ctx.options.poll ?? {};
  let delay = poll.initialDelayMs ?? 2_000;
  let round = 0;
  while (states.some((s) => !s.done) && ctx.now() < deadline) {
    await ctx.sleep(Math.min(ctx.aws.jitter(delay), Math.max(0, deadline - ctx.now())));
    delay = Math.min(poll.maxDelayMs ?? 20_000, delay * (poll.multiplier ?? 1.5));
    const open = states.filter((s) => !s.done);
    ctx.options.onPoll?.({
      round: ++round,
      pendingCommands: open.length,
      pendingInvocations: waitingFor.filter((id) => !ctx.handedOver.has(id)).length,
    });
    const listed = await listCommands(ctx, open);
    for (const state of open) {
      const command = listed.get(state.sent.commandId);
      state.terminal = command?.Status !== undefined && TERMINAL_COMMAND_STATUSES.has(command.Status);
      state.targetCount = command?.TargetCount ?? state.targetCount;
      if (command && !worthListing(ctx, state, command)) continue;
      await collectCommand(ctx, state, deliver);
      settle(ctx, state);
    }
  }
  const unfinished = states.filter((s) => !s.done);
  const pending: PendingInvocation[] = [];
  for (const state of unfinished) {
    await collectCommand(ctx, state, deliver);
    for (const [instanceId, last] of state.lastSeen)
      pending.push({ instanceId, commandId: state.sent.commandId, status: last.Status ?? 'Pending', statusDetails: last.StatusDetails });
  }
  // Every targeted VM ends with exactly one record: the rule lives in lib/core.
  const records = missingInvocationRecords({
    targeted: [...pending.map((p) => p.instanceId), ...states.flatMap((s) => s.sent.instanceIds ?? []), ...(expected ?? [])],
    recorded: ctx.handedOver,
    pending,
    commands: states.map((s) => ({
      commandId: s.sent.commandId,
      instanceIds: s.sent.instanceIds,
      ended: s.sent.instanceIds === undefined ? s.terminal : !unfinished.includes(s),
    })),
    moment: 'wait-ended',
  });
  for (const record of records) await deliver(record);
}

/** Lists the given commands' invocations once and hands over every terminal one not in `skip`. */
export async function collectOnce(
  ctx: SsmContext,
  commandIds: string[],
  deliver: Deliver,
  skip: ReadonlySet<string> | undefined,
): Promise<CollectResult['pending']> {
  const pending: CollectResult['pending'] = [];
  for (const commandId of commandIds) {
    const state = newState({ commandId, instanceIds: undefined, requestedAt: new Date(0) });
    await collectCommand(ctx, state, deliver, skip);
    for (const [instanceId, last] of state.lastSeen)
      pending.push({ commandId, instanceId, status: last.Status ?? 'Pending', statusDetails: last.StatusDetails });
  }
  return pending;
}

function waitTimeoutMs(ctx: SsmContext): number {
  const o = ctx.options;
  return o.waitTimeoutMs ?? ((o.deliveryTimeoutSeconds ?? 600) + (o.executionTimeoutSeconds ?? 600) + 120) * 1000;
}

/**
 * Whether a listing of the command's invocations would bring enough: it is terminal, or of the invocations
 * that ended and were not collected yet there are at least half a listing's worth, or all those still open.
 */
function worthListing(ctx: SsmContext, state: CommandState, command: ListedCommand): boolean {
  if (state.terminal || command.CompletedCount === undefined) return true;
  const collected = handedOverOf(ctx, state);
  const fresh = command.CompletedCount - collected;
  if (fresh <= 0) return false;
  const total = command.TargetCount ?? state.targetCount;
  if (total === undefined) return true;
  // A one-page listing is one call whatever it brings: any news is worth it.
  const pages = Math.ceil(total / PAGE_SIZE);
  if (pages <= 1) return true;
  return fresh >= Math.min(total - collected, Math.ceil((pages * PAGE_SIZE) / 2));
}

async function listCommands(ctx: SsmContext, open: CommandState[]): Promise<Map<string, ListedCommand>> {
  const wanted = new Set(open.map((s) => s.sent.commandId));
  const found = new Map<string, ListedCommand>();
  if (open.length === 1) {
    const commandId = open[0]!.sent.commandId;
    const page = await ctx.aws.call(
      'SSM',
      'ListCommands',
      () => ctx.ssm.send(new ListCommandsCommand({ CommandId: commandId })),
      `command ${commandId}`,
    );
    for (const raw of page.Commands ?? []) {
      const command = parseWith(ListedCommandSchema, raw, 'ListCommands item');
      found.set(command.CommandId, command);
    }
    return found;
  }
  // One listing of this run's commands (by time and document) instead of a call per command.
  const since = new Date(Math.min(...open.map((s) => s.sent.requestedAt.getTime())) - 1000).toISOString();
  let token: string | undefined;
  do {
    const page = await ctx.aws.call(
      'SSM',
      'ListCommands',
      () =>
        ctx.ssm.send(
          new ListCommandsCommand({
            Filters: [
              { key: 'InvokedAfter', value: since },
              { key: 'DocumentName', value: ctx.options.documentName },
            ],
            MaxResults: PAGE_SIZE,
            NextToken: token,
          }),
        ),
      `commands since ${since}`,
    );
    for (const raw of page.Commands ?? []) {
      const command = parseWith(ListedCommandSchema, raw, 'ListCommands item');
      if (wanted.has(command.CommandId)) found.set(command.CommandId, command);
    }
    token = found.size === wanted.size ? undefined : page.NextToken;
  } while (token);
  return found;
}

function handedOverOf(ctx: SsmContext, state: CommandState): number {
  let n = 0;
  for (const id of state.seen) if (ctx.handedOver.has(id)) n++;
  return n;
}

function settle(ctx: SsmContext, state: CommandState): void {
  const ids = state.sent.instanceIds;
  if (ids !== undefined && ids.every((id) => ctx.handedOver.has(id))) {
    state.done = true;
    return;
  }
  // A terminal command is done once its listing caught up with the count ListCommands gave (listings lag behind).
  const listedAll = state.targetCount === undefined ? state.seen.size > 0 : state.seen.size >= state.targetCount;
  state.done = state.terminal && listedAll && state.lastSeen.size === 0;
}

/** One listing of a command's invocations: terminal ones are read and handed over, the others remembered. */
async function collectCommand(ctx: SsmContext, state: CommandState, deliver: Deliver, skip?: ReadonlySet<string>): Promise<void> {
  const commandId = state.sent.commandId;
  const details = ctx.options.bucket !== undefined;
  let token: string | undefined;
  do {
    const page = await ctx.aws.call(
      'SSM',
      'ListCommandInvocations',
      () =>
        ctx.ssm.send(
          new ListCommandInvocationsCommand({ CommandId: commandId, Details: details, MaxResults: PAGE_SIZE, NextToken: token }),
        ),
      `command ${commandId}`,
    );
    const ended: ListedInvocation[] = [];
    for (const raw of page.CommandInvocations ?? []) {
      const invocation = parseWith(ListedInvocationSchema, raw, 'ListCommandInvocations item');
      const id = invocation.InstanceId;
      state.seen.add(id);
      if (ctx.handedOver.has(id) || skip?.has(id)) {
        state.lastSeen.delete(id);
        continue;
      }
      if (isTerminalInvocationStatus(invocation.Status, invocation.StatusDetails)) {
        state.lastSeen.delete(id);
        ended.push(invocation);
      } else {
        state.lastSeen.set(id, { Status: invocation.Status, StatusDetails: invocation.StatusDetails });
      }
    }
    await forEachBounded(ended, ctx.options.s3Concurrency ?? 8, async (invocation) => deliver(await recordOf(ctx, invocation)));
    token = page.NextToken;
  } while (token);
}
