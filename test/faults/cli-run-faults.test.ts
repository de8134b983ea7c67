import { beforeAll, describe, expect, it } from 'vitest';
import { buildSimFleetAsync, type SimFleet } from '../../sim/fleet.ts';
import { simClusterEvidence } from '../../sim/cluster.ts';
import { runAudit } from '../../lib/use-cases/run-audit.ts';
import { FLEET_FAULTS, withFaultWorld, type FaultScenario } from '../support/fault-world.ts';

/**
 * The CLI's audit (run-audit with the SSM collector polling until the fleet is done) under faults of SSM,
 * S3 and the mesh, one per scenario, each over a simulated cloud of its own; the evidence goes to the same
 * S3 endpoint so every record write is seen. Every scenario ends with the invariants of fault-invariants.ts.
 */

let fleet: SimFleet;
let istiod: string;

beforeAll(async () => {
  fleet = await buildSimFleetAsync({ vms: 6, seed: 21, now: new Date(), faults: FLEET_FAULTS });
  istiod = Object.keys(simClusterEvidence(fleet).syncz).sort()[0]!;
});

async function runUnder(scenario: FaultScenario): Promise<string[]> {
  return withFaultWorld(fleet, scenario, async (world) => {
    const runner = world.runner('cli', { poll: { initialDelayMs: 20, maxDelayMs: 80 } });
    await runAudit(
      { fleet: runner, mesh: await world.mesh(), store: world.store, clock: world.clock.now },
      { runId: 'cli', source: 'aws', toolVersion: 'test' },
    );
    await world.checkStored('cli');
    return [
      ...world.cloud.endpoints.ssm.faults.injected(),
      ...world.cloud.endpoints.s3.faults.injected(),
      ...world.cloud.kube.bursts.injected(),
    ].map((f) => `${f.target} ${f.kind}`);
  });
}

describe.concurrent('the CLI audit under faults', () => {
  it('ListCommands throttled in a burst', async () => {
    expect(await runUnder({ ssm: { faults: [{ target: 'ListCommands', kind: 'throttle', times: 2 }] } })).toContain(
      'ListCommands throttle',
    );
  });

  it('ListCommandInvocations unanswered', async () => {
    expect(await runUnder({ ssm: { faults: [{ target: 'ListCommandInvocations', kind: 'timeout' }] } })).toContain(
      'ListCommandInvocations timeout',
    );
  });

  it('SendCommand failing with 5xx', async () => {
    expect(await runUnder({ ssm: { faults: [{ target: 'SendCommand', kind: 'server-error', times: 2 }] } })).toContain(
      'SendCommand server-error',
    );
  });

  it('the output objects failing with 5xx, then appearing late', async () => {
    const injected = await runUnder({
      ssm: { delays: { outputUploadLagMs: 200 } },
      s3Faults: [{ target: 'GetObject', where: '/ssm-output/', kind: 'server-error', times: 3 }],
    });
    expect(injected).toContain('GetObject server-error');
  });

  it('the evidence writes throttled', async () => {
    expect(await runUnder({ s3Faults: [{ target: 'PutObject', where: '/evidence/invocations/', kind: 'throttle', times: 2 }] })).toContain(
      'PutObject throttle',
    );
  });

  it('the collector stops waiting with a VM still running: recorded as it stood, UNKNOWN', async () => {
    await runUnder({
      ssm: { outcomes: { [fleet.vms[0]!.instanceId]: 'DeliveryTimedOut' }, delays: { deliveryTimeoutMs: 60_000 } },
      runner: { waitTimeoutMs: 600 },
    });
  });

  it('an istiod replica down and a 403 on WorkloadGroups', async () => {
    await runUnder({ kube: { replicaDown: [istiod], forbidden: [{ resource: 'workloadgroups' }] } });
  });
});
