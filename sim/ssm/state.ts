import type { SimFleet, SimVm } from '../fleet.ts';
import { simInstanceInformation, simInvocation } from '../cluster.ts';
import type { SimComplianceStore } from '../ssm-compliance-items.ts';
import { hashString } from '../random.ts';
import type { SimSsmDelays, SimSsmOutcome, SsmApiServerOptions, SsmApiServerStats } from './options.ts';

/** The simulated commands and invocations, and the timeline each invocation follows from SendCommand to its end. */

export const TERMINAL_IMMEDIATELY: ReadonlySet<SimSsmOutcome> = new Set(['AccessDenied', 'InvalidPlatform', 'Terminated']);
export const AGENT_RAN: ReadonlySet<SimSsmOutcome> = new Set(['Success', 'Failed', 'ExecutionTimedOut']);

export interface SimInvocationState {
  instanceId: string;
  computerName: string;
  outcome: SimSsmOutcome;
  visibleAt: number;
  startAt: number;
  endAt: number;
  stdout: string;
  stderr: string;
  responseCode: number;
}

export interface SimCommand {
  commandId: string;
  requestedAt: number;
  documentName: string;
  documentVersion: string;
  comment: string;
  parameters: Record<string, string[]>;
  instanceIds: string[];
  targets: Array<{ Key: string; Values: string[] }>;
  timeoutSeconds: number;
  maxConcurrency: string;
  maxErrors: string;
  bucket: string;
  keyPrefix: string;
  s3Region: string;
  invocations: SimInvocationState[];
  lookups: number;
}

export interface StatusNow {
  status: string;
  details: string;
  terminal: boolean;
}

/** Everything the operation handlers share: the fleet, the options resolved to their defaults, and the commands sent. */
export interface SsmSimState {
  fleet: SimFleet;
  options: SsmApiServerOptions;
  region: string;
  account: string;
  delays: SimSsmDelays;
  stepName: string;
  outcomes: Record<string, SimSsmOutcome>;
  hiddenLookups: number;
  vmsById: Map<string, SimVm>;
  commands: Map<string, SimCommand>;
  stats: SsmApiServerStats;
  timers: Set<NodeJS.Timeout>;
  uploads: Set<Promise<void>>;
  tampered: Set<string>;
  compliance: SimComplianceStore;
}

/** The tags of a node, as SSM knows them. */
export function vmTags(fleet: SimFleet, vm: SimVm): Array<{ Key: string; Value: string }> {
  return simInstanceInformation(fleet, vm).Tags ?? [];
}

/** Plans an invocation's timeline and output when SendCommand reaches the VM. */
export function planInvocation(state: SsmSimState, vm: SimVm, now: number): SimInvocationState {
  const { fleet, delays, outcomes, options } = state;
  const spread = hashString(`${fleet.seed}:${vm.instanceId}:spread`) % (delays.spreadMs + 1);
  const base = simInvocation(fleet, vm);
  const outcome: SimSsmOutcome =
    outcomes[vm.instanceId] ??
    (base.StatusDetails === 'Undeliverable' ? 'Undeliverable' : base.Status === 'Success' ? 'Success' : 'Failed');
  const visibleAt = now + delays.invocationVisibleMs;
  const startAt = visibleAt + delays.deliveryMs + spread;
  let endAt = startAt + delays.executionMs;
  let stdout = '';
  let stderr = '';
  let responseCode = -1;
  const rendered = base.StandardOutputContent ?? '';
  const output = options.renderOutput ? options.renderOutput(vm, rendered) : rendered;
  switch (outcome) {
    case 'Success':
      stdout = output;
      stderr = base.StandardErrorContent ?? '';
      responseCode = 0;
      break;
    case 'Failed':
      stderr = 'fleet-audit: cannot run the diagnostics: /bin/sh: 1: set: Illegal option -o pipefail\n';
      responseCode = 2;
      break;
    case 'ExecutionTimedOut':
      // The agent kills the script; what it printed so far is kept.
      stdout = output.slice(0, Math.floor(output.length / 2));
      stderr = 'failed to run commands: exit status 137\n';
      responseCode = 137;
      endAt = startAt + delays.executionTimeoutMs;
      break;
    case 'Undeliverable':
      endAt = visibleAt + delays.undeliverableMs + spread;
      break;
    case 'DeliveryTimedOut':
      endAt = visibleAt + delays.deliveryTimeoutMs + spread;
      break;
    case 'Cancelled':
      endAt = startAt;
      break;
    default:
      endAt = visibleAt;
  }
  return {
    instanceId: vm.instanceId,
    computerName: simInstanceInformation(fleet, vm).ComputerName ?? '',
    outcome,
    visibleAt,
    startAt,
    endAt,
    stdout,
    stderr,
    responseCode,
  };
}

export function statusAt(inv: SimInvocationState, t: number): StatusNow {
  if (t >= inv.endAt || TERMINAL_IMMEDIATELY.has(inv.outcome)) return terminalStatus(inv.outcome);
  if (inv.outcome === 'Undeliverable') {
    return t < (inv.visibleAt + inv.endAt) / 2
      ? { status: 'Pending', details: 'Pending', terminal: false }
      : { status: 'Delayed', details: 'Delayed', terminal: false };
  }
  if (inv.outcome === 'DeliveryTimedOut' || t < inv.startAt) return { status: 'Pending', details: 'Pending', terminal: false };
  return { status: 'InProgress', details: 'InProgress', terminal: false };
}

/** The terminal Status that SSM reports with each terminal StatusDetails. */
export function terminalStatus(outcome: SimSsmOutcome): StatusNow {
  switch (outcome) {
    case 'Success':
      return { status: 'Success', details: 'Success', terminal: true };
    case 'DeliveryTimedOut':
    case 'ExecutionTimedOut':
      return { status: 'TimedOut', details: outcome, terminal: true };
    case 'Cancelled':
      return { status: 'Cancelled', details: 'Cancelled', terminal: true };
    default:
      return { status: 'Failed', details: outcome, terminal: true };
  }
}

export function commandStatus(states: StatusNow[]): { status: string; details: string } {
  if (states.length === 0) return { status: 'Failed', details: 'NoInstancesInTag' };
  if (states.every((s) => !s.terminal && s.status === 'Pending')) return { status: 'Pending', details: 'Pending' };
  if (states.some((s) => !s.terminal)) return { status: 'InProgress', details: 'InProgress' };
  // Undeliverable, InvalidPlatform and AccessDenied invocations do not count against the command.
  const counted = states.filter((s) => !['Undeliverable', 'InvalidPlatform', 'AccessDenied'].includes(s.details));
  const successes = counted.filter((s) => s.details === 'Success').length;
  if (successes === 0) return { status: 'Failed', details: 'Failed' };
  if (successes === counted.length) return { status: 'Success', details: 'Success' };
  return { status: 'Failed', details: 'Incomplete' };
}
