import { beforeAll, describe, expect, it } from 'vitest';
import type { Invocation } from '../../lib/core/evidence-bundle.ts';
import type { AuditStore } from '../../lib/ports/audit-store.ts';
import type { RecordWriteOptions, StoredRun, StoredRuns } from '../../lib/ports/run-registry.ts';
import { buildSimFleetAsync, type SimFleet } from '../../sim/fleet.ts';
import { finalizeAudit, finalizeCommand, DEFAULT_LEASE_MS } from '../../lib/use-cases/finalize-audit.ts';
import { sweepAudits } from '../../lib/use-cases/sweep-audits.ts';
import { FLEET_FAULTS, withFaultWorld, type FaultWorld } from '../support/fault-world.ts';

/**
 * The deployed audit when its triggers misbehave: SSM's status events duplicated, out of order or racing
 * the sweep, a collector killed in the middle and run again, the deadline reached with a VM still
 * running. Every scenario ends with the invariants of fault-invariants.ts.
 */

let fleet: SimFleet;
let slowVm: string;

beforeAll(async () => {
  fleet = await buildSimFleetAsync({ vms: 6, seed: 21, now: new Date(), faults: FLEET_FAULTS });
  slowVm = fleet.vms[0]!.instanceId;
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A VM whose invocation stays pending for a minute, so the run reaches its deadline with it open. */
const SLOW = (): { ssm: { outcomes: Record<string, 'DeliveryTimedOut'>; delays: { deliveryTimeoutMs: number } } } => ({
  ssm: { outcomes: { [slowVm]: 'DeliveryTimedOut' }, delays: { deliveryTimeoutMs: 60_000 } },
});

// Polling budgets are generous (20 s) so a loaded machine slows these tests down without failing them.
const POLLS = 800;

/** Finalizes until all VMs but the slow one are stored, the run still collecting. */
async function collectAllButSlow(world: FaultWorld, runId: string): Promise<void> {
  for (let i = 0; i < POLLS; i++) {
    const result = await finalizeAudit(world.deps(), { runId });
    if (result.kind === 'collecting' && result.collected === world.targeted.length - 1) return;
    await sleep(25);
  }
  throw new Error(`run ${runId} never collected all but the slow VM`);
}

/**
 * The store as a collector sees it, killed at the first record write that `kills` picks: that write and
 * every later one never complete, as when the function running it dies. `killed` settles then.
 */
function killingStore(
  inner: StoredRuns & AuditStore,
  kills: (invocation: Invocation, options: RecordWriteOptions | undefined) => boolean,
): { store: StoredRuns & AuditStore; killed: Promise<void> } {
  let kill!: () => void;
  const killed = new Promise<void>((resolve) => (kill = resolve));
  let dead = false;
  const never = new Promise<never>(() => undefined);
  return {
    killed,
    store: {
      openRun: (runId) => inner.openRun(runId),
      readReportText: (runId) => inner.readReportText(runId),
      resumeRun: async (runId): Promise<StoredRun> => {
        const run = await inner.resumeRun(runId);
        return {
          ...run,
          writeRecord: (invocation, options) => {
            if (dead || kills(invocation, options)) {
              dead = true;
              kill();
              return never;
            }
            return run.writeRecord(invocation, options);
          },
          writeLate: (invocation) => (dead ? never : run.writeLate(invocation)),
        };
      },
    },
  };
}

describe.concurrent('the deployed audit when its events and collectors misbehave', () => {
  it('duplicated status events: each delivered three times at once, the run done once', async () => {
    await withFaultWorld(fleet, {}, async (world) => {
      const [commandId] = await world.start('run');
      for (let i = 0; i < POLLS && (await world.registry.get('run'))?.status !== 'DONE'; i++) {
        const results = await Promise.allSettled([1, 2, 3].map(() => finalizeCommand(world.deps(), { commandId: commandId! })));
        expect(results.filter((r) => r.status === 'fulfilled' && r.value.kind === 'done').length).toBeLessThanOrEqual(1);
        await sleep(25);
      }
      expect(await world.registry.get('run')).toMatchObject({ status: 'DONE', attempts: 1 });
      await world.check('run');
    });
  });

  it('status events out of order: an early one before anything ended, a late one after the report', async () => {
    // Long enough that no invocation has ended when the early event is handled, even on a loaded machine.
    await withFaultWorld(fleet, { ssm: { delays: { executionMs: 5_000 } } }, async (world) => {
      const [commandId] = await world.start('run');
      // The event for "in progress" handled after the one for "done" would be: nothing ended yet.
      expect(await finalizeCommand(world.deps(), { commandId: commandId! })).toMatchObject({ kind: 'collecting' });
      await world.finalizeUntilDone('run');
      const before = await world.check('run');
      expect(await finalizeCommand(world.deps(), { commandId: commandId! })).toEqual({ kind: 'final', runId: 'run', status: 'DONE' });
      const after = await world.check('run');
      expect(after.report).toEqual(before.report);
    });
  });

  it('the sweep racing a status event at the deadline, a VM still running: one report, the VM UNKNOWN', async () => {
    await withFaultWorld(fleet, SLOW(), async (world) => {
      const [commandId] = await world.start('run', 10 * 60_000);
      await collectAllButSlow(world, 'run');
      world.clock.advance(11 * 60_000);
      const [swept, event] = await Promise.allSettled([
        sweepAudits(world.deps(), { limit: 5 }),
        finalizeCommand(world.deps(), { commandId: commandId! }),
      ]);
      expect(swept.status).toBe('fulfilled');
      expect(event.status).toBe('fulfilled');
      await world.finalizeUntilDone('run');
      expect(await world.registry.get('run')).toMatchObject({ status: 'DONE' });
      const { report } = await world.check('run');
      expect(report.vms.find((vm) => vm.instanceId === slowVm)?.status).toBe('UNKNOWN');
    });
  });

  it('the deadline hit: the VM still running is recorded as it stood and reported UNKNOWN, a later event changes nothing', async () => {
    await withFaultWorld(fleet, SLOW(), async (world) => {
      const [commandId] = await world.start('run', 10 * 60_000);
      await collectAllButSlow(world, 'run');
      world.clock.advance(11 * 60_000);
      await world.finalizeUntilDone('run');
      const { report, bundle } = await world.check('run');
      expect(bundle.invocations[slowVm]?.Status).not.toBe('Success');
      expect(report.vms.find((vm) => vm.instanceId === slowVm)?.status).toBe('UNKNOWN');
      expect(await finalizeCommand(world.deps(), { commandId: commandId! })).toMatchObject({ kind: 'final' });
      await world.check('run');
    });
  });

  it('a collector killed at its first record write, then run again', async () => {
    await withFaultWorld(fleet, {}, async (world) => {
      await world.start('run');
      const { store, killed } = killingStore(world.store, () => true);
      // The killed pass never returns: nothing after its death may count.
      void finalizeAudit(world.deps({ store }), { runId: 'run' }).catch(() => undefined);
      await killed;
      await world.finalizeUntilDone('run');
      await world.check('run');
    });
  });

  it('a finalization killed in the middle of sealing the run, then run again once its lease ran out', async () => {
    await withFaultWorld(fleet, SLOW(), async (world) => {
      await world.start('run', 10 * 60_000);
      await collectAllButSlow(world, 'run');
      world.clock.advance(11 * 60_000);
      const { store, killed } = killingStore(world.store, (_invocation, options) => options?.fence === true);
      void finalizeAudit(world.deps({ store }), { runId: 'run' }).catch(() => undefined);
      await killed;
      expect(await world.registry.get('run')).toMatchObject({ status: 'ANALYZING' });
      // While the dead holder's lease runs, nobody else finalizes.
      expect(await finalizeAudit(world.deps(), { runId: 'run' })).toMatchObject({ kind: 'busy' });
      world.clock.advance(DEFAULT_LEASE_MS + 1);
      await world.finalizeUntilDone('run');
      const { report } = await world.check('run');
      expect(report.vms.find((vm) => vm.instanceId === slowVm)?.status).toBe('UNKNOWN');
    });
  });
});
