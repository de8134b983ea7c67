import { S3Client } from '@aws-sdk/client-s3';
import { buildKubeConfig } from '../../lib/adapters/kube-config.ts';
import { KubeMeshReader } from '../../lib/adapters/kube-mesh-reader.ts';
import { MemoryRunRegistry } from '../../lib/adapters/memory-run-registry.ts';
import { S3AuditStore } from '../../lib/adapters/s3-audit-store.ts';
import { SsmFleetRunner, type SsmFleetRunnerOptions, type SsmTarget } from '../../lib/adapters/ssm-fleet-runner.ts';
import { isTransientError } from '../../lib/adapters/transient-error.ts';
import type { EvidenceBundle } from '../../lib/core/evidence-bundle.ts';
import { ReportSchema, type Report } from '../../lib/core/report.ts';
import type { MeshReader } from '../../lib/ports/mesh-reader.ts';
import type { SimFaultRule } from '../../sim/fault-plan.ts';
import type { SimFleet, VmFault } from '../../sim/fleet.ts';
import type { KubeApiFaults } from '../../sim/kube-api-server.ts';
import type { SimStoredObject } from '../../sim/s3-server.ts';
import { startSimCloud, type SimCloud } from '../../sim/sim-cloud.ts';
import type { SimEndpointsOptions } from '../../sim/sim-endpoints.ts';
import { finalizeAudit, type FinalizeAuditDeps, type FinalizeAuditResult } from '../../lib/use-cases/finalize-audit.ts';
import { startAudit, type StartAuditDeps } from '../../lib/use-cases/start-audit.ts';
import { expectEveryVmOnce, expectRecordsOnlyGrewFinal, expectReportFromBundle, recordWrites } from './fault-invariants.ts';
import { simRunnerOptions } from './sim-runner.ts';

/**
 * The deployed audit (startAudit, then finalizeAudit as SSM's events and the sweep call it) over the
 * simulated cloud with faults injected: the real SDK clients against the simulated SSM endpoint, s3rver
 * as the evidence bucket and the simulated Kubernetes API, the run registry in memory. Client timeouts
 * are short so that an unanswered request costs little; only the clock that decides deadlines is the test's.
 */

export interface FaultScenario {
  /** The SSM side: faults, delays, forced outcomes… */
  ssm?: Omit<SimEndpointsOptions, 'fleet' | 's3'>;
  /** Faults of the S3-compatible endpoint (the store's reads and writes, and the agent's uploads). */
  s3Faults?: readonly SimFaultRule[];
  kube?: KubeApiFaults;
  /** Overrides of the collector's options. */
  runner?: Partial<SsmFleetRunnerOptions>;
}

/**
 * How long a client waits for an answer before it gives up (and retries): short, so a lost answer is cheap,
 * yet long enough that a loaded machine does not turn a slow answer into an unplanned fault.
 */
export const FAULT_REQUEST_TIMEOUT_MS = 1_000;

/**
 * The fleet's own faults in the suite: four healthy VMs (COMPLIANT when nothing goes wrong, so that a
 * VM wrongly called COMPLIANT under a fault shows), one with stale xDS, one SSM cannot reach.
 */
export const FLEET_FAULTS: VmFault[] = ['ssm-undeliverable', 'xds-stale'];

export interface ArmedFaults {
  ssm?: readonly SimFaultRule[];
  s3?: readonly SimFaultRule[];
  kube?: readonly SimFaultRule[];
}

export interface TestClock {
  now(): Date;
  advance(ms: number): void;
}

export function testClock(start = new Date()): TestClock {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

export interface FaultWorld {
  fleet: SimFleet;
  cloud: SimCloud;
  /** Every object the S3 endpoint stored, in order. */
  stored: SimStoredObject[];
  store: S3AuditStore;
  registry: MemoryRunRegistry;
  clock: TestClock;
  targeted: string[];
  target: SsmTarget;
  deps(overrides?: Partial<StartAuditDeps & FinalizeAuditDeps>): StartAuditDeps & FinalizeAuditDeps;
  /** Arms the endpoints with the rules of one scenario (none: no fault), their counts starting afresh. */
  arm(faults: ArmedFaults): void;
  /** Starts a run over the whole fleet. */
  start(runId: string, collectForMs?: number): Promise<string[]>;
  /** Finalizes as repeated events would until the run is DONE; failures are retried as the next event would. */
  finalizeUntilDone(runId: string, deps?: FinalizeAuditDeps): Promise<void>;
  /** Checks that the registry has the run DONE, then every invariant on it; gives its report and bundle. */
  check(runId: string): Promise<{ report: Report; bundle: EvidenceBundle }>;
  /** Checks every invariant on a run's stored bundle and report (a run of `run-audit` has no registry entry). */
  checkStored(runId: string): Promise<{ report: Report; bundle: EvidenceBundle }>;
  /** A collector for one run, as the CLI makes it, with this world's short timeouts. */
  runner(runId: string, overrides?: Partial<SsmFleetRunnerOptions>): SsmFleetRunner;
  mesh(): Promise<MeshReader>;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startFaultWorld(fleet: SimFleet, scenario: FaultScenario = {}): Promise<FaultWorld> {
  const stored: SimStoredObject[] = [];
  const cloud = await startSimCloud({
    fleet,
    ssm: {
      ...scenario.ssm,
      s3: { onStored: (object) => stored.push(object), ...(scenario.s3Faults ? { faults: scenario.s3Faults } : {}) },
    },
    ...(scenario.kube ? { kubeFaults: scenario.kube } : {}),
  });
  const s3 = new S3Client({
    region: cloud.region,
    endpoint: cloud.s3Endpoint,
    forcePathStyle: true,
    credentials: cloud.credentials,
    maxAttempts: 4,
    requestHandler: { requestTimeout: FAULT_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true, connectionTimeout: 1_000 },
  });
  const store = new S3AuditStore({ bucket: cloud.bucket, client: s3, encryption: { kind: 'AES256' } });
  const registry = new MemoryRunRegistry();
  const clock = testClock();
  const targeted = fleet.vms.map((vm) => vm.instanceId);
  const target: SsmTarget = { kind: 'instanceIds', instanceIds: targeted };
  const runners: SsmFleetRunner[] = [];
  const { kubeConfig } = await buildKubeConfig({ kind: 'file', path: cloud.kubeconfigPath });

  const runner = (runId: string, overrides: Partial<SsmFleetRunnerOptions> = {}): SsmFleetRunner => {
    const made = new SsmFleetRunner(
      simRunnerOptions(cloud.endpoints, runId, target, {
        requestTimeoutMs: FAULT_REQUEST_TIMEOUT_MS,
        maxAttempts: 3,
        apiRetry: { initialDelayMs: 10 },
        outputRetry: { initialDelayMs: 10, attempts: 8 },
        ...scenario.runner,
        ...overrides,
      }),
    );
    runners.push(made);
    return made;
  };
  const mesh = async (): Promise<MeshReader> =>
    new KubeMeshReader({ kubeConfig, requestTimeoutMs: FAULT_REQUEST_TIMEOUT_MS, synczTimeoutMs: 2 * FAULT_REQUEST_TIMEOUT_MS });
  const deps = (overrides: Partial<StartAuditDeps & FinalizeAuditDeps> = {}): StartAuditDeps & FinalizeAuditDeps => ({
    registry,
    store,
    fleet: (runId) => runner(runId),
    mesh,
    clock: clock.now,
    isTransient: isTransientError,
    ...overrides,
  });

  const world: FaultWorld = {
    fleet,
    cloud,
    stored,
    store,
    registry,
    clock,
    targeted,
    target,
    deps,
    arm(faults) {
      cloud.endpoints.ssm.faults.arm(faults.ssm ?? []);
      cloud.endpoints.s3.faults.arm(faults.s3 ?? []);
      cloud.kube.bursts.arm(faults.kube ?? []);
    },
    async start(runId, collectForMs = 30 * 60_000) {
      const started = await startAudit(deps(), { runId, trigger: 'schedule', toolVersion: 'test', targets: target, collectForMs });
      if (started.kind !== 'started') throw new Error(`run ${runId} did not start: ${started.kind}`);
      return started.commandIds;
    },
    async finalizeUntilDone(runId, d = deps()) {
      const seen: string[] = [];
      // 800 polls of 25 ms: a loaded machine slows the run down, which must not fail the test.
      for (let i = 0; i < 800; i++) {
        let result: FinalizeAuditResult | undefined;
        try {
          result = await finalizeAudit(d, { runId });
        } catch (error) {
          seen.push(`error: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (result?.kind === 'done' || result?.kind === 'final') return;
        if (result) seen.push(result.kind);
        if (result?.kind === 'failed') break;
        await sleep(25);
      }
      throw new Error(`run ${runId} never finished: ${seen.slice(-3).join(' | ')}`);
    },
    runner,
    mesh,
    async check(runId) {
      const run = await registry.get(runId);
      if (run?.status !== 'DONE')
        throw new Error(`run ${runId} is ${run?.status ?? 'unknown'}, not DONE${run?.error ? `: ${run.error}` : ''}`);
      return world.checkStored(runId);
    },
    async checkStored(runId) {
      const text = await store.readReportText(runId);
      if (text === undefined) throw new Error(`run ${runId} has no report`);
      const report = ReportSchema.parse(JSON.parse(text));
      const bundle = await (await store.resumeRun(runId)).evidence.readBundle();
      expectEveryVmOnce(report, bundle, targeted);
      expectRecordsOnlyGrewFinal(recordWrites(stored, `runs/${runId}/`));
      expectReportFromBundle(text, bundle);
      return { report, bundle };
    },
    async close() {
      for (const made of runners) made.destroy();
      s3.destroy();
      await cloud.close();
    },
  };
  return world;
}

/** Runs `body` over a world of its own, closed afterwards whatever happens. */
export async function withFaultWorld<T>(fleet: SimFleet, scenario: FaultScenario, body: (world: FaultWorld) => Promise<T>): Promise<T> {
  const world = await startFaultWorld(fleet, scenario);
  try {
    return await body(world);
  } finally {
    await world.close();
  }
}
