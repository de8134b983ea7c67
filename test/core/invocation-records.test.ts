import { describe, expect, it } from 'vitest';
import type { Invocation } from '../../lib/core/evidence-bundle.ts';
import {
  INVOCATION_FINALITY,
  invocationFinality,
  mayReplaceInvocation,
  missingInvocationRecords,
} from '../../lib/core/invocation-records.ts';

const A = 'i-0000000000000000a';
const B = 'i-0000000000000000b';
const C = 'i-0000000000000000c';
const D = 'i-0000000000000000d';
const E = 'i-0000000000000000e';

describe('missingInvocationRecords', () => {
  it('gives each targeted VM without a record exactly one, from what is known of it', () => {
    const records = missingInvocationRecords({
      targeted: [A, B, C, D, E, A, B],
      recorded: new Set([E]),
      pending: [{ instanceId: A, commandId: 'cmd-1', status: 'InProgress', statusDetails: 'InProgress' }],
      notSent: new Map([[B, 'SendCommand rejected this node']]),
      commands: [
        { commandId: 'cmd-1', instanceIds: [A, C], ended: false },
        { commandId: 'cmd-tag', ended: true },
      ],
      moment: 'wait-ended',
    });
    expect(records.map((r) => [r.InstanceId, r.Status, r.StatusDetails, r.FleetAuditPlaceholder])).toEqual([
      [A, 'InProgress', 'InProgress', undefined],
      [B, 'Failed', 'Undeliverable', 'not-sent'],
      [C, 'Pending', 'Pending', 'never-listed'],
      [D, 'Failed', 'Undeliverable', 'not-targeted'],
    ]);
    expect(records[0]!.StandardErrorContent).toBe('the wait for this invocation ended while it was InProgress; SSM may still complete it');
    expect(records[2]!.StandardErrorContent).toBe('the wait ended before command cmd-1 listed an invocation for this node');
    expect(records[3]!.StandardErrorContent).toBe('command cmd-tag, targeted by tag, created no invocation for this node');
  });

  it('says the run was finalized, naming the commands, when that is what ended the wait', () => {
    const [pending, missing] = missingInvocationRecords({
      targeted: [A, B],
      recorded: new Set(),
      pending: [{ instanceId: A, commandId: 'c1', status: 'Delayed' }],
      commands: [
        { commandId: 'c1', ended: false },
        { commandId: 'c2', ended: true },
      ],
      moment: 'finalized',
    });
    expect(pending!.StandardErrorContent).toBe('the audit was finalized while this invocation was Delayed; SSM may still complete it');
    expect(missing).toMatchObject({
      Status: 'Pending',
      FleetAuditPlaceholder: 'never-listed',
      StandardErrorContent: 'the audit was finalized before an invocation was listed for this node (commands c1, c2)',
    });
  });

  it('records a command that ended without listing the node, and a node no command was sent to', () => {
    const records = missingInvocationRecords({
      targeted: [A],
      recorded: new Set(),
      commands: [{ commandId: 'c1', instanceIds: [A], ended: true }],
      moment: 'wait-ended',
    });
    expect(records[0]).toMatchObject({
      Status: 'Failed',
      StatusDetails: 'Undeliverable',
      CommandId: 'c1',
      StandardErrorContent: 'command c1 ended without an invocation for this node',
    });
    expect(missingInvocationRecords({ targeted: [B], recorded: new Set(), moment: 'finalized' })[0]).toMatchObject({
      FleetAuditPlaceholder: 'not-sent',
      StandardErrorContent: 'no command was sent to this node in this run',
    });
  });
});

describe('invocationFinality', () => {
  const record = (over: Partial<Invocation>): Invocation => ({ InstanceId: A, Status: 'Success', ...over });
  const [placeholder] = missingInvocationRecords({
    targeted: [A],
    recorded: new Set(),
    commands: [{ commandId: 'c1', instanceIds: [A], ended: true }],
    moment: 'wait-ended',
  });

  it('orders none < placeholder < in progress < terminal', () => {
    expect(invocationFinality(undefined)).toBe(INVOCATION_FINALITY.none);
    expect(invocationFinality(placeholder)).toBe(INVOCATION_FINALITY.placeholder);
    for (const status of ['Pending', 'InProgress', 'Delayed'])
      expect(invocationFinality(record({ Status: status, StatusDetails: status }))).toBe(INVOCATION_FINALITY.inProgress);
    for (const [status, details] of [
      ['Success', 'Success'],
      ['Failed', 'Undeliverable'],
      ['TimedOut', 'ExecutionTimedOut'],
      ['Cancelled', 'Cancelled'],
    ]) {
      expect(invocationFinality(record({ Status: status, StatusDetails: details }))).toBe(INVOCATION_FINALITY.terminal);
    }
  });

  it('lets a record replace only a less final one', () => {
    const success = record({});
    const inProgress = record({ Status: 'InProgress' });
    expect(mayReplaceInvocation(undefined, placeholder!)).toBe(true);
    expect(mayReplaceInvocation(placeholder, inProgress)).toBe(true);
    expect(mayReplaceInvocation(inProgress, success)).toBe(true);
    expect(mayReplaceInvocation(success, inProgress)).toBe(false);
    expect(mayReplaceInvocation(success, placeholder!)).toBe(false);
    expect(mayReplaceInvocation(success, record({ Status: 'Failed' }))).toBe(false);
  });
});
