import { beforeAll, describe, expect, it } from 'vitest';
import type { SimFaultKind } from '../../sim/fault-plan.ts';
import { buildSimFleetAsync, type SimFleet } from '../../sim/fleet.ts';
import { FLEET_FAULTS, withFaultWorld } from '../support/fault-world.ts';

/**
 * The deployed audit (startAudit, then finalizeAudit as SSM's events trigger it) under faults of SSM's
 * API, one operation and one kind of fault per scenario, each over a simulated cloud of its own (so the
 * scenarios run side by side); every scenario ends with the invariants of fault-invariants.ts.
 */

let fleet: SimFleet;

beforeAll(async () => {
  fleet = await buildSimFleetAsync({ vms: 6, seed: 21, now: new Date(), faults: FLEET_FAULTS });
});

/** A throttling burst of two (the SDK backs off half a second and more after each), three 5xx, one lost answer. */
const BURST: Record<SimFaultKind, number> = { throttle: 2, 'server-error': 3, timeout: 1 };

describe.concurrent('the deployed audit under SSM API faults', () => {
  it('without a fault: the baseline every scenario is checked like', async () => {
    await withFaultWorld(fleet, {}, async (world) => {
      await world.start('run');
      await world.finalizeUntilDone('run');
      const { report } = await world.check('run');
      expect(report.vms.filter((vm) => vm.status === 'COMPLIANT')).toHaveLength(4);
      expect(world.cloud.endpoints.ssm.faults.injected()).toEqual([]);
    });
  });

  for (const operation of ['DescribeInstanceInformation', 'SendCommand', 'ListCommandInvocations', 'GetCommandInvocation']) {
    for (const kind of ['throttle', 'server-error', 'timeout'] as const) {
      it(`${operation}: ${kind}`, async () => {
        // GetCommandInvocation is asked only for output S3 does not hold: here the uploads come too late.
        const viaApi = operation === 'GetCommandInvocation';
        const scenario = {
          ssm: { faults: [{ target: operation, kind, times: BURST[kind] }], ...(viaApi ? { delays: { outputUploadLagMs: 60_000 } } : {}) },
          ...(viaApi ? { runner: { outputWaitMs: 50 } } : {}),
        };
        await withFaultWorld(fleet, scenario, async (world) => {
          await world.start('run');
          await world.finalizeUntilDone('run');
          expect(world.cloud.endpoints.ssm.faults.injected().map((f) => f.kind)).toContain(kind);
          await world.check('run');
        });
      });
    }
  }
});
