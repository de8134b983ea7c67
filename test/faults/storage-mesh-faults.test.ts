import { beforeAll, describe, expect, it } from 'vitest';
import { S3AuditStore } from '../../lib/adapters/s3-audit-store.ts';
import type { SimFaultKind } from '../../sim/fault-plan.ts';
import { buildSimFleetAsync, type SimFleet } from '../../sim/fleet.ts';
import { simClusterEvidence } from '../../sim/cluster.ts';
import { FAULT_REQUEST_TIMEOUT_MS, FLEET_FAULTS, withFaultWorld, type FaultScenario } from '../support/fault-world.ts';

/**
 * The deployed audit under faults of S3 (the collector's reads of the agent's output, the store's record
 * writes and reads) and of the Kubernetes API and istiod, one fault per scenario, each over a simulated
 * cloud of its own; every scenario ends with the invariants of fault-invariants.ts.
 */

let fleet: SimFleet;
let istiods: string[];

beforeAll(async () => {
  fleet = await buildSimFleetAsync({ vms: 6, seed: 21, now: new Date(), faults: FLEET_FAULTS });
  istiods = Object.keys(simClusterEvidence(fleet).syncz).sort();
});

const BURST: Record<SimFaultKind, number> = { throttle: 2, 'server-error': 3, timeout: 1 };
const KINDS = ['throttle', 'server-error', 'timeout'] as const;

async function auditUnder(scenario: FaultScenario): Promise<{ injected: string[]; problems: string[] }> {
  return withFaultWorld(fleet, scenario, async (world) => {
    await world.start('run');
    await world.finalizeUntilDone('run');
    const { bundle } = await world.check('run');
    const injected = [
      ...world.cloud.endpoints.ssm.faults.injected(),
      ...world.cloud.endpoints.s3.faults.injected(),
      ...world.cloud.kube.bursts.injected(),
    ].map((f) => `${f.target} ${f.kind}`);
    return { injected, problems: (bundle.cluster?.problems ?? []).map((p) => `${p.part}${p.target ? `/${p.target}` : ''}`) };
  });
}

describe.concurrent('the deployed audit under S3 faults', () => {
  for (const [operation, where] of [
    ['GetObject', '/ssm-output/'],
    ['PutObject', '/evidence/invocations/'],
    ['GetObject', '/evidence/'],
  ] as const) {
    for (const kind of KINDS) {
      it(`${operation} of ${where}: ${kind}`, async () => {
        const { injected } = await auditUnder({ s3Faults: [{ target: operation, where, kind, times: BURST[kind] }] });
        expect(injected).toContain(`${operation} ${kind}`);
      });
    }
  }

  it('a record write unanswered, to a store with a client of its own: it gives up waiting and tries again', async () => {
    await withFaultWorld(
      fleet,
      { s3Faults: [{ target: 'PutObject', where: '/evidence/invocations/', kind: 'timeout' }] },
      async (world) => {
        const own = new S3AuditStore({
          bucket: world.cloud.bucket,
          encryption: { kind: 'AES256' },
          requestTimeoutMs: FAULT_REQUEST_TIMEOUT_MS,
          clientConfig: {
            region: world.cloud.region,
            endpoint: world.cloud.s3Endpoint,
            forcePathStyle: true,
            credentials: world.cloud.credentials,
          },
        });
        try {
          await world.start('run');
          await world.finalizeUntilDone('run', world.deps({ store: own }));
          expect(world.cloud.endpoints.s3.faults.injected().map((f) => f.kind)).toEqual(['timeout']);
          await world.check('run');
        } finally {
          own.destroy();
        }
      },
    );
  });

  it('output objects that appear after the collector stopped waiting: the API copy is used, each VM still once', async () => {
    const { injected } = await auditUnder({ ssm: { delays: { outputUploadLagMs: 60_000 } }, runner: { outputWaitMs: 50 } });
    expect(injected).toEqual([]);
  });

  it('output objects that appear late, within the wait: read once there', async () => {
    await auditUnder({ ssm: { delays: { outputUploadLagMs: 300 } } });
  });
});

describe.concurrent('the deployed audit under Kubernetes and istiod faults', () => {
  for (const resource of ['workloadentries', 'workloadgroups', 'pods']) {
    for (const kind of KINDS) {
      it(`list ${resource}: ${kind}`, async () => {
        const { injected } = await auditUnder({ kube: { bursts: [{ target: `list ${resource}`, kind, times: BURST[kind] }] } });
        expect(injected).toContain(`list ${resource} ${kind}`);
      });
    }
  }

  for (const kind of KINDS) {
    it(`istiod syncz: ${kind}`, async () => {
      const { injected, problems } = await auditUnder({ kube: { bursts: [{ target: 'syncz', kind, times: 1 }] } });
      expect(injected.some((i) => i.startsWith('syncz/'))).toBe(true);
      expect(problems.some((p) => p.startsWith('syncz/'))).toBe(true);
    });
  }

  it('an istiod replica down', async () => {
    const { problems } = await auditUnder({ kube: { replicaDown: [istiods[0]!] } });
    expect(problems).toContain(`syncz/${istiods[0]}`);
  });

  it('a 403 on WorkloadEntries', async () => {
    const { problems } = await auditUnder({ kube: { forbidden: [{ resource: 'workloadentries' }] } });
    expect(problems).toContain('workloadentries');
  });
});
