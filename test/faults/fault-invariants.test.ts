import { describe, expect, it } from 'vitest';
import type { Invocation } from '../../lib/core/evidence-bundle.ts';
import { SimFaultPlan } from '../../sim/fault-plan.ts';
import { expectRecordsOnlyGrewFinal, recordWrites } from '../support/fault-invariants.ts';

/** The checks and the fault plan the fault suite rests on: they must be able to fail, and count exactly. */

const KEY = 'runs/r/evidence/invocations/i-0123456789abcdef0.json';
const record = (fields: Partial<Invocation>): { bucket: string; key: string; body: string } => ({
  bucket: 'b',
  key: KEY,
  body: JSON.stringify({ InstanceId: 'i-0123456789abcdef0', StandardOutputContent: '', StandardErrorContent: '', ...fields }),
});
const placeholder = record({ Status: 'Pending', StatusDetails: 'Pending' });
const inProgress = record({ CommandId: 'c', Status: 'InProgress', StatusDetails: 'InProgress' });
const terminal = record({ CommandId: 'c', Status: 'Success', StatusDetails: 'Success' });

describe('the record write check', () => {
  it('accepts records that only become more final, and a fence of the same finality', () => {
    expectRecordsOnlyGrewFinal(recordWrites([placeholder, placeholder, inProgress, terminal], 'runs/r/'));
  });

  it('fails on a record replaced by a less final one', () => {
    expect(() => expectRecordsOnlyGrewFinal(recordWrites([inProgress, placeholder], 'runs/r/'))).toThrow(/replaced finality 2 by 1/);
    expect(() => expectRecordsOnlyGrewFinal(recordWrites([terminal, inProgress], 'runs/r/'))).toThrow(/replaced finality 3 by 2/);
  });

  it('fails on a terminal record rewritten', () => {
    const other = record({ CommandId: 'c', Status: 'Failed', StatusDetails: 'Failed' });
    expect(() => expectRecordsOnlyGrewFinal(recordWrites([terminal, other], 'runs/r/'))).toThrow(/terminal record was rewritten/);
  });

  it('looks only at the run asked for', () => {
    expectRecordsOnlyGrewFinal(
      recordWrites([terminal, { ...placeholder, key: 'runs/other/evidence/invocations/i-0123456789abcdef0.json' }], 'runs/r/'),
    );
  });
});

describe('SimFaultPlan', () => {
  it('injects exactly the burst it was given, after the requests it lets through', () => {
    const plan = new SimFaultPlan([{ target: 'ListCommands', kind: 'throttle', after: 1, times: 2 }]);
    expect(['ListCommands', 'ListCommands', 'SendCommand', 'ListCommands', 'ListCommands'].map((op) => plan.take(op))).toEqual([
      undefined,
      'throttle',
      undefined,
      'throttle',
      undefined,
    ]);
    expect(plan.injected()).toHaveLength(2);
  });

  it('matches one replica of a target, and only requests at the place named', () => {
    const plan = new SimFaultPlan([
      { target: 'syncz', kind: 'timeout' },
      { target: 'GetObject', kind: 'server-error', where: '/ssm-output/' },
    ]);
    expect(plan.take('syncz/istiod-a', 'istiod-a')).toBe('timeout');
    expect(plan.take('GetObject', '/b/runs/r/evidence/manifest.json')).toBeUndefined();
    expect(plan.take('GetObject', '/b/runs/r/ssm-output/c/i/stdout')).toBe('server-error');
  });

  it('starts afresh when armed again', () => {
    const plan = new SimFaultPlan([{ target: 'SendCommand', kind: 'timeout' }]);
    expect(plan.take('SendCommand')).toBe('timeout');
    plan.arm([{ target: 'SendCommand', kind: 'server-error' }]);
    expect(plan.take('SendCommand')).toBe('server-error');
    expect(() => plan.arm([{ target: 'x', kind: 'server-error', times: 0 }])).toThrow(/times ≥ 1/);
  });
});
