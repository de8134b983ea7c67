import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SsmFleetRunner, type SsmFleetRunnerOptions } from '../../lib/adapters/ssm-fleet-runner.ts';
import { splitDiagnosticOutput } from '../../lib/core/diagnostic-output.ts';
import type { Invocation } from '../../lib/core/evidence-bundle.ts';
import { simInvocation } from '../../sim/cluster.ts';
import { buildSimFleet, type SimFleet, type SimVm } from '../../sim/fleet.ts';
import { startSimEndpoints, type SimEndpoints } from '../../sim/sim-endpoints.ts';
import type { SimSsmOutcome } from '../../sim/ssm-api-server.ts';
import { simRunnerOptions } from '../support/sim-runner.ts';

/**
 * The whole collect path with the real SDK clients: the simulated SSM endpoint (JSON 1.1) and s3rver.
 * Timing is small and real; nothing here asserts how long anything took.
 */

const VMS = 120;
const PADDING = `${'padding line of a long journal tail\n'.repeat(900)}`;

let fleet: SimFleet;
let sim: SimEndpoints;
const undeliverable = new Set<string>();
const large = new Set<string>();

function render(vm: SimVm, rendered: string): string {
  return large.has(vm.instanceId) ? rendered.replace('BEGIN logs\n', `BEGIN logs\n${PADDING}`) : rendered;
}

beforeAll(async () => {
  fleet = buildSimFleet({ vms: VMS, seed: 3, now: new Date('2025-03-01T12:00:00Z') });
  const outcomes: Record<string, SimSsmOutcome> = {};
  for (const vm of fleet.vms) if (vm.faults.includes('ssm-undeliverable')) undeliverable.add(vm.instanceId);
  // 10 % of the fleet offline.
  for (const vm of fleet.vms.filter((v) => v.faults.length === 0)) {
    if (undeliverable.size >= VMS / 10) break;
    undeliverable.add(vm.instanceId);
    outcomes[vm.instanceId] = 'Undeliverable';
  }
  for (const vm of fleet.vms.filter((v) => v.faults.length === 0 && !undeliverable.has(v.instanceId)).slice(0, 4)) large.add(vm.instanceId);
  sim = await startSimEndpoints({
    fleet,
    outcomes,
    renderOutput: render,
    hiddenLookups: 1,
    throttle: { everyNth: 9 },
    delays: { undeliverableMs: 150 },
  });
});

afterAll(async () => {
  await sim?.close();
});

function options(overrides: Partial<SsmFleetRunnerOptions> = {}): SsmFleetRunnerOptions {
  const target = { kind: 'instanceIds' as const, instanceIds: fleet.vms.map((vm) => vm.instanceId) };
  return simRunnerOptions(sim, 'it', target, { poll: { initialDelayMs: 20, maxDelayMs: 80 }, ...overrides });
}

function expectedOutput(vm: SimVm): string {
  return render(vm, simInvocation(fleet, vm).StandardOutputContent ?? '');
}

describe('SsmFleetRunner against the simulated SSM endpoint and s3rver', () => {
  it('collects 120 VMs with ≤ 3 SendCommand calls, ≤ 3 listings a round, one invocation each, complete large outputs', async () => {
    const rounds: Array<Record<string, number>> = [];
    const runner = new SsmFleetRunner(options({ onPoll: () => rounds.push(runner.callCounts()) }));
    const throttledBefore = sim.ssm.stats().throttled;
    try {
      const inventory = await runner.listInstances();
      expect(inventory.InstanceInformationList).toHaveLength(VMS);
      const offlineInInventory = inventory.InstanceInformationList.filter((i) => i.PingStatus === 'ConnectionLost').map(
        (i) => i.InstanceId,
      );
      expect(new Set(offlineInInventory)).toEqual(undeliverable);

      const got: Invocation[] = [];
      await runner.runDiagnostics(inventory.InstanceInformationList, async (invocation) => {
        got.push(invocation);
      });

      const counts = runner.callCounts();
      expect(counts['SSM.SendCommand']).toBeLessThanOrEqual(Math.ceil(VMS / 50));
      const listings = [...rounds.slice(1), counts].map(
        (c, i) => (c['SSM.ListCommandInvocations'] ?? 0) - (rounds[i]!['SSM.ListCommandInvocations'] ?? 0),
      );
      expect(listings.length).toBeGreaterThan(0);
      for (const perRound of listings) expect(perRound).toBeLessThanOrEqual(3);

      expect(got).toHaveLength(VMS);
      expect(new Set(got.map((g) => g.InstanceId))).toEqual(new Set(fleet.vms.map((vm) => vm.instanceId)));
      for (const invocation of got) {
        if (undeliverable.has(invocation.InstanceId)) {
          expect(invocation).toMatchObject({
            Status: 'Failed',
            StatusDetails: 'Undeliverable',
            ResponseCode: -1,
            StandardOutputContent: '',
          });
        } else {
          const vm = fleet.vms.find((v) => v.instanceId === invocation.InstanceId)!;
          expect(invocation).toMatchObject({ Status: 'Success', StatusDetails: 'Success', ResponseCode: 0 });
          expect(invocation.StandardOutputContent).toBe(expectedOutput(vm));
        }
      }
      for (const id of large) {
        const output = got.find((g) => g.InstanceId === id)!.StandardOutputContent!;
        expect(Buffer.byteLength(output)).toBeGreaterThan(24_000);
        expect(splitDiagnosticOutput(output).truncated).toBe(false);
      }
      expect(counts['S3.GetObject']).toBeGreaterThanOrEqual(large.size);
      expect(sim.ssm.stats().throttled).toBeGreaterThan(throttledBefore);
      expect(sim.ssm.stats().uploadErrors).toEqual([]);
    } finally {
      runner.destroy();
    }
  });

  it('targets the tag with one command and still gives every VM one invocation', async () => {
    const runner = new SsmFleetRunner(options({ target: { kind: 'tag', key: 'istio-fleet' } }));
    try {
      const inventory = await runner.listInstances();
      const got: Invocation[] = [];
      await runner.runDiagnostics(inventory.InstanceInformationList, async (invocation) => {
        got.push(invocation);
      });
      expect(runner.callCounts()['SSM.SendCommand']).toBe(1);
      expect(got).toHaveLength(VMS);
      expect(new Set(got.map((g) => g.InstanceId)).size).toBe(VMS);
      expect(got.filter((g) => g.StatusDetails === 'Undeliverable')).toHaveLength(undeliverable.size);
    } finally {
      runner.destroy();
    }
  });

  it('without a bucket hands over the API copy, cut at 24,000 bytes with the marker', async () => {
    const ids = [
      ...large,
      ...fleet.vms
        .filter((vm) => !large.has(vm.instanceId) && !undeliverable.has(vm.instanceId))
        .slice(0, 3)
        .map((vm) => vm.instanceId),
    ];
    const runner = new SsmFleetRunner(
      options({ bucket: undefined, keyPrefix: undefined, target: { kind: 'instanceIds', instanceIds: ids } }),
    );
    try {
      const inventory = await runner.listInstances();
      const got: Invocation[] = [];
      await runner.runDiagnostics(inventory.InstanceInformationList, async (invocation) => {
        got.push(invocation);
      });
      expect(got).toHaveLength(ids.length);
      for (const invocation of got) {
        const output = invocation.StandardOutputContent!;
        if (large.has(invocation.InstanceId)) {
          expect(Buffer.byteLength(output)).toBe(24_000);
          expect(output.endsWith('--output truncated--')).toBe(true);
          expect(splitDiagnosticOutput(output).truncated).toBe(true);
        } else {
          expect(splitDiagnosticOutput(output).truncated).toBe(false);
        }
      }
      expect(runner.callCounts()['S3.GetObject']).toBeUndefined();
      expect(runner.callCounts()['SSM.GetCommandInvocation']).toBe(ids.length);
    } finally {
      runner.destroy();
    }
  });
});
