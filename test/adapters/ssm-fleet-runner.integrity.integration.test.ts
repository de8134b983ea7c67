import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SsmFleetRunner } from '../../lib/adapters/ssm-fleet-runner.ts';
import type { Invocation } from '../../lib/core/evidence-bundle.ts';
import { simInvocation } from '../../sim/cluster.ts';
import { buildSimFleet, type SimFleet } from '../../sim/fleet.ts';
import { startSimEndpoints, type SimEndpoints } from '../../sim/sim-endpoints.ts';
import { simRunnerOptions } from '../support/sim-runner.ts';

/** An S3 object that is not the output SSM reports for its invocation, through the real SDK, the simulator and s3rver. */

let fleet: SimFleet;
let sim: SimEndpoints;
let forged: string;

beforeAll(async () => {
  fleet = buildSimFleet({ vms: 30, seed: 3, now: new Date('2025-03-01T12:00:00Z') });
  forged = (fleet.vms.find((vm) => vm.faults.length === 0) ?? fleet.vms[0]!).instanceId;
  // Every request waits a little, as over a network; the S3 object of one VM is overwritten.
  sim = await startSimEndpoints({ fleet, tamperedOutputs: [forged], latencyMs: 3 });
});

afterAll(async () => {
  await sim?.close();
});

describe('SsmFleetRunner output integrity', () => {
  it('flags the VM whose S3 object does not start with what SSM returned, and only that VM', async () => {
    const target = { kind: 'instanceIds' as const, instanceIds: fleet.vms.map((vm) => vm.instanceId) };
    const runner = new SsmFleetRunner(simRunnerOptions(sim, 'integrity', target, { poll: { initialDelayMs: 20, maxDelayMs: 80 } }));
    try {
      const inventory = await runner.listInstances();
      const got: Invocation[] = [];
      await runner.runDiagnostics(inventory.InstanceInformationList, async (invocation) => void got.push(invocation));
      expect(got).toHaveLength(fleet.vms.length);
      const flagged = got.filter((g) => g.FleetAuditCollectionError !== undefined);
      expect(flagged.map((g) => g.InstanceId)).toEqual([forged]);
      expect(flagged[0]!.FleetAuditCollectionError).toMatch(/may have been tampered with/);
      expect(flagged[0]!.StandardOutputContent).toBe('');
      for (const invocation of got.filter((g) => g.InstanceId !== forged && g.Status === 'Success')) {
        const vm = fleet.vms.find((v) => v.instanceId === invocation.InstanceId)!;
        expect(invocation.StandardOutputContent).toBe(simInvocation(fleet, vm).StandardOutputContent);
      }
      expect(runner.callCounts()['S3.GetObject']).toBeGreaterThan(0);
    } finally {
      runner.destroy();
    }
  });
});
