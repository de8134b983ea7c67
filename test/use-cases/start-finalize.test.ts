import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunRegistry } from '../../lib/adapters/dynamo-run-store.ts';
import { LocalAuditStore } from '../../lib/adapters/local-audit-store.ts';
import { S3AuditStore } from '../../lib/adapters/s3-audit-store.ts';
import { SsmFleetRunner, type SsmTarget } from '../../lib/adapters/ssm-fleet-runner.ts';
import type { Invocation } from '../../lib/core/evidence-bundle.ts';
import { ReportSchema, type Report } from '../../lib/core/report.ts';
import type { MeshReader } from '../../lib/ports/mesh-reader.ts';
import type { CompliancePublisher } from '../../lib/ports/compliance-publisher.ts';
import type { CommandFleet } from '../../lib/ports/run-registry.ts';
import type { WaiversSource } from '../../lib/ports/waivers-source.ts';
import type { SsmComplianceRecord } from '../../lib/core/ssm-compliance.ts';
import { parseWaiversText } from '../../lib/core/waivers-text.ts';
import { buildSimFleetAsync, type SimFleet } from '../../sim/fleet.ts';
import { startSimEndpoints, type SimEndpoints } from '../../sim/sim-endpoints.ts';
import { SimMeshReader } from '../../sim/sim-sources.ts';
import { finalizeAudit, finalizeCommand, type FinalizeAuditDeps, type FinalizeAuditResult } from '../../lib/use-cases/finalize-audit.ts';
import { sweepAudits } from '../../lib/use-cases/sweep-audits.ts';
import { runAudit } from '../../lib/use-cases/run-audit.ts';
import { startAudit, type StartAuditDeps } from '../../lib/use-cases/start-audit.ts';
import { startDynalite, type LocalDynamo } from '../functions/support/local-aws.ts';
import { simRunnerOptions } from '../support/sim-runner.ts';

/**
 * The event-driven audit end to end over real protocol speakers: the simulated SSM endpoint, s3rver for
 * the evidence bucket (SSM output and evidence both), dynalite for the run registry. Only the clock that
 * decides deadlines is the test's; SSM's own timeline is real and short.
 */

const DOCUMENT = 'fleet-audit-dev-diagnostics';
let fleet: SimFleet;
let sim: SimEndpoints;
let dynamo: LocalDynamo;
let s3: S3Client;
let store: S3AuditStore;
let registry: DynamoRunRegistry;
let dir: string;
let slowVm: string;
let otherIds: string[];
const runners: SsmFleetRunner[] = [];

beforeAll(async () => {
  fleet = await buildSimFleetAsync({ vms: 12, seed: 11, now: new Date() });
  // One VM whose invocation stays pending for a minute: only runs that include it must wait for it.
  slowVm = fleet.vms.at(-1)!.instanceId;
  otherIds = fleet.vms.map((vm) => vm.instanceId).filter((id) => id !== slowVm);
  sim = await startSimEndpoints({
    fleet,
    documentName: DOCUMENT,
    outcomes: { [slowVm]: 'DeliveryTimedOut' },
    delays: { deliveryTimeoutMs: 60_000 },
  });
  dynamo = await startDynalite();
  await dynamo.createRunTable('runs');
  s3 = new S3Client({ region: sim.region, endpoint: sim.s3Endpoint, forcePathStyle: true, credentials: sim.credentials });
  store = new S3AuditStore({ bucket: sim.bucket, client: s3, encryption: { kind: 'AES256' } });
  registry = new DynamoRunRegistry({ tableName: 'runs', client: dynamo.client });
  dir = await mkdtemp(join(tmpdir(), 'fleet-audit-start-finalize-'));
});

afterAll(async () => {
  for (const runner of runners) runner.destroy();
  s3?.destroy();
  await dynamo?.close();
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function runner(runId: string, target: SsmTarget): SsmFleetRunner {
  const made = new SsmFleetRunner(simRunnerOptions(sim, runId, target, { documentName: DOCUMENT }));
  runners.push(made);
  return made;
}

/** A clock the test moves; it only decides deadlines and the times written down. */
function testClock(start = new Date()): { now: () => Date; advance(ms: number): void } {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}

function deps(
  clock: () => Date,
  target: SsmTarget,
  mesh: () => Promise<MeshReader> = async () => new SimMeshReader(fleet),
): StartAuditDeps & FinalizeAuditDeps {
  return { registry, store, fleet: (runId) => runner(runId, target), mesh, clock };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Finalizes until done, as SSM's events would, a bounded number of times. */
async function finalizeUntilDone(d: FinalizeAuditDeps, runId: string): Promise<Extract<FinalizeAuditResult, { kind: 'done' }>> {
  const seen: string[] = [];
  for (let i = 0; i < 300; i++) {
    const result = await finalizeAudit(d, { runId });
    if (result.kind === 'done') return result;
    seen.push(result.kind);
    expect(result.kind).toBe('collecting');
    await sleep(30);
  }
  throw new Error(`run ${runId} never finished: ${seen.slice(-3).join(', ')}`);
}

async function storedReport(runId: string): Promise<Report> {
  return ReportSchema.parse(JSON.parse((await store.readReportText(runId))!));
}

/** What a report says, without times and messages that depend on when it ran. */
function verdicts(report: Report): string[] {
  return [
    ...report.vms.map((vm) => `${vm.instanceId} ${vm.status}`),
    ...report.findings.map((f) => `${f.control} ${f.subject.kind}:${f.subject.id} ${f.status}`),
  ].sort();
}

describe('startAudit and finalizeAudit over SSM, S3 and DynamoDB speakers', () => {
  it('gives the report a blocking run gives, with every VM collected once and the run DONE once', async () => {
    const clock = testClock();
    const target: SsmTarget = { kind: 'instanceIds', instanceIds: otherIds };
    const d = deps(clock.now, target);
    const started = await startAudit(d, {
      runId: 'event-run',
      trigger: 'schedule',
      toolVersion: 'test',
      targets: target,
      collectForMs: 30 * 60_000,
    });
    expect(started).toMatchObject({ kind: 'started', expected: otherIds.length, location: `s3://${sim.bucket}/runs/event-run/` });
    if (started.kind !== 'started') return;
    expect(started.commandIds).toHaveLength(1);
    expect(await registry.get('event-run')).toMatchObject({
      status: 'COLLECTING',
      commandIds: started.commandIds,
      expectedCount: otherIds.length,
    });
    expect(await registry.findRunByCommand(started.commandIds[0]!)).toBe('event-run');

    // A repeated trigger starts nothing.
    expect(await startAudit(d, { runId: 'event-run', trigger: 'schedule', toolVersion: 'test', collectForMs: 1 })).toEqual({
      kind: 'duplicate',
      runId: 'event-run',
    });

    const done = await finalizeUntilDone(d, 'event-run');
    expect(done.summary.vms).toBe(otherIds.length);
    expect(done.written).toEqual(
      ['json', 'html', 'csv', 'junit.xml', 'ocsf.json'].map((f) => `s3://${sim.bucket}/runs/event-run/report.${f}`),
    );
    const run = await registry.get('event-run');
    expect(run).toMatchObject({ status: 'DONE', collectedCount: otherIds.length, summary: done.summary, attempts: 1 });
    // Finalizing again, as a late event would, changes nothing.
    expect(await finalizeCommand(d, { commandId: started.commandIds[0]! })).toEqual({ kind: 'final', runId: 'event-run', status: 'DONE' });
    expect(await finalizeCommand(d, { commandId: 'no-such-command' })).toEqual({ kind: 'unknown-command', commandId: 'no-such-command' });

    const bundle = await (await store.resumeRun('event-run')).evidence.readBundle();
    expect(Object.keys(bundle.invocations).sort()).toEqual([...otherIds].sort());
    expect(bundle.manifest).toMatchObject({ runId: 'event-run', source: 'aws', toolVersion: 'test', targets: target });
    expect(bundle.manifest.finishedAt).toBeDefined();
    expect(bundle.cluster?.workloadEntries).toBeDefined();

    // The same fleet audited the blocking way: the same verdicts.
    const blocking = await runAudit(
      { fleet: runner('blocking-run', target), mesh: new SimMeshReader(fleet), store: new LocalAuditStore(dir), clock: () => new Date() },
      { runId: 'blocking-run', source: 'aws', toolVersion: 'test' },
    );
    const eventDriven = await storedReport('event-run');
    expect(verdicts(eventDriven)).toEqual(verdicts(blocking.report));
    expect(eventDriven.summary).toEqual(blocking.report.summary);
  });

  it('lets exactly one of several concurrent finalizations through', async () => {
    const clock = testClock();
    const d = deps(clock.now, { kind: 'instanceIds', instanceIds: otherIds.slice(0, 3) });
    const started = await startAudit(d, { runId: 'race-run', trigger: 'api', toolVersion: 'test', collectForMs: 30 * 60_000 });
    expect(started.kind).toBe('started');
    // Wait until the run is ready to finalize, without finalizing it.
    for (let i = 0; i < 300; i++) {
      const stored = await (await store.resumeRun('race-run')).storedInvocations();
      const outcome = await runner('race-run', { kind: 'instanceIds', instanceIds: otherIds.slice(0, 3) }).collect(
        started.kind === 'started' ? started.commandIds : [],
        async () => {},
        { skip: stored },
      );
      if (outcome.pending.length === 0 && outcome.collected.length + stored.size >= 3) break;
      await sleep(30);
    }
    const results = await Promise.all([
      finalizeAudit(d, { runId: 'race-run' }),
      finalizeAudit(d, { runId: 'race-run' }),
      finalizeAudit(d, { runId: 'race-run' }),
    ]);
    const kinds = results.map((r) => r.kind).sort();
    expect(kinds.filter((k) => k === 'done')).toHaveLength(1);
    expect(kinds.every((k) => k === 'done' || k === 'busy' || k === 'final')).toBe(true);
    expect(await registry.get('race-run')).toMatchObject({ status: 'DONE', attempts: 1 });
  });

  it('at the deadline, finalizes with what it has: the pending VM recorded as it stood, never as compliant', async () => {
    const clock = testClock();
    const ids = [slowVm, ...otherIds.slice(0, 2)];
    const d = deps(clock.now, { kind: 'instanceIds', instanceIds: ids });
    const started = await startAudit(d, { runId: 'late-run', trigger: 'schedule', toolVersion: 'test', collectForMs: 10 * 60_000 });
    expect(started.kind).toBe('started');
    // The healthy VMs end; the slow one does not, so the run keeps collecting before its deadline.
    let last: FinalizeAuditResult | undefined;
    for (let i = 0; i < 300; i++) {
      last = await finalizeAudit(d, { runId: 'late-run' });
      if (last.kind === 'collecting' && last.collected === 2) break;
      await sleep(30);
    }
    expect(last).toMatchObject({ kind: 'collecting', collected: 2, expected: 3, pending: 1 });
    expect(await sweepAudits(d, { limit: 5 })).toEqual({ runs: [] });

    clock.advance(11 * 60_000);
    const swept = await sweepAudits(d, { limit: 5 });
    expect(swept.runs).toHaveLength(1);
    expect(swept.runs[0]).toMatchObject({ runId: 'late-run', result: { kind: 'done' } });
    const bundle = await (await store.resumeRun('late-run')).evidence.readBundle();
    const pending: Invocation | undefined = bundle.invocations[slowVm];
    expect(pending).toMatchObject({ InstanceId: slowVm, ResponseCode: -1, StandardOutputContent: '' });
    expect(pending?.Status).not.toBe('Success');
    expect(pending?.StandardErrorContent).toMatch(
      /^the audit was finalized while this invocation was \w+; SSM may still complete it \(finalization \d+\)$/,
    );
    const report = await storedReport('late-run');
    expect(report.vms.find((vm) => vm.instanceId === slowVm)?.status).toBe('UNKNOWN');
  });

  it('fails a run whose start broke, with the error, and says which run', async () => {
    const clock = testClock();
    const broken: CommandFleet = {
      listInstances: async () => ({ InstanceInformationList: [{ InstanceId: 'i-0123456789abcdef0' }] }),
      sendDiagnostics: async () => {
        throw new Error('SendCommand failed: AccessDeniedException');
      },
      collect: async () => ({ collected: [], pending: [] }),
    };
    const d = { ...deps(clock.now, { kind: 'tag', key: 'istio-fleet' }), fleet: () => broken };
    await expect(startAudit(d, { runId: 'broken-start', trigger: 'api', toolVersion: 'test', collectForMs: 60_000 })).rejects.toThrow(
      'starting audit run broken-start failed: SendCommand failed: AccessDeniedException',
    );
    expect(await registry.get('broken-start')).toMatchObject({ status: 'FAILED', error: 'SendCommand failed: AccessDeniedException' });
    expect(await finalizeAudit(d, { runId: 'broken-start' })).toEqual({ kind: 'final', runId: 'broken-start', status: 'FAILED' });
    expect(await finalizeAudit(d, { runId: 'never-started' })).toEqual({ kind: 'unknown-run', runId: 'never-started' });
  });

  it("applies the deployment's waivers, read at finalization, and publishes each VM's compliance items once DONE", async () => {
    const clock = testClock();
    const ids = otherIds.slice(0, 6);
    const published: SsmComplianceRecord[][] = [];
    const read: Date[] = [];
    // Every FAIL of every control is waived, so that the report must say WAIVED wherever it would say FAIL.
    const controls = new Set<string>();
    const waivers: WaiversSource = {
      read: async (now) => {
        read.push(now);
        return [...controls].map((control) => ({
          control,
          justification: 'accepted until the VMs are rebuilt',
          owner: 'platform-team',
          expires: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
        }));
      },
    };
    const publisher: CompliancePublisher = {
      publish: async (records) => {
        published.push([...records]);
        return records.map((r) => ({ instanceId: r.instanceId, ok: true as const }));
      },
    };
    const plain = deps(clock.now, { kind: 'instanceIds', instanceIds: ids });
    await startAudit(plain, { runId: 'unwaived', trigger: 'schedule', toolVersion: 'test', collectForMs: 30 * 60_000 });
    await finalizeUntilDone(plain, 'unwaived');
    const failed = (await storedReport('unwaived')).findings.filter((f) => f.status === 'FAIL');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) controls.add(f.control);

    const d = { ...deps(clock.now, { kind: 'instanceIds', instanceIds: ids }), waivers, compliance: publisher };
    await startAudit(d, { runId: 'waived', trigger: 'schedule', toolVersion: 'test', collectForMs: 30 * 60_000 });
    const done = await finalizeUntilDone(d, 'waived');
    const report = await storedReport('waived');
    expect(report.findings.filter((f) => f.status === 'FAIL')).toEqual([]);
    expect(
      report.findings
        .filter((f) => f.status === 'WAIVED')
        .map((f) => `${f.control} ${f.subject.id}`)
        .sort(),
    ).toEqual(failed.map((f) => `${f.control} ${f.subject.id}`).sort());
    expect(report.waivers.map((w) => w.state)).toEqual([...controls].map(() => 'active'));
    expect(read.length).toBeGreaterThan(0);
    // Published once, after the run was DONE: every VM, with all of its items.
    expect(done.compliance).toEqual({ published: ids.length, failed: [] });
    expect(published).toHaveLength(1);
    expect(published[0]!.map((r) => r.instanceId).sort()).toEqual([...ids].sort());
    expect(published[0]!.every((r) => r.items.length > 0)).toBe(true);
  });

  it('fails the finalization with the entry named when the waivers are malformed, and never publishes a half-waived run', async () => {
    const clock = testClock();
    const ids = otherIds.slice(6, 8);
    let published = 0;
    const malformed: WaiversSource = {
      read: async (now) =>
        parseWaiversText(
          's3://bucket/config/waivers.yaml',
          'waivers:\n  - control: XDS-05\n    owner: me\n    expires: 2099-01-01T00:00:00Z\n',
          now,
        ),
    };
    const d = {
      ...deps(clock.now, { kind: 'instanceIds', instanceIds: ids }),
      waivers: malformed,
      compliance: { publish: async () => (published++, []) },
    };
    await startAudit(d, { runId: 'bad-waivers', trigger: 'schedule', toolVersion: 'test', collectForMs: 60_000 });
    clock.advance(2 * 60_000);
    await expect(finalizeAudit(d, { runId: 'bad-waivers', maxAttempts: 1 })).rejects.toThrow(
      's3://bucket/config/waivers.yaml: waivers[0] (XDS-05): justification:',
    );
    expect(await registry.get('bad-waivers')).toMatchObject({ status: 'FAILED' });
    expect(published).toBe(0);
    expect(await store.readReportText('bad-waivers')).toBeUndefined();
  });

  it('gives a run whose finalization keeps failing back for another try, then fails it', async () => {
    const clock = testClock();
    const ids = otherIds.slice(3, 5);
    const failingMesh = async (): Promise<MeshReader> => {
      throw new Error('minting the EKS token failed: no credentials');
    };
    const d = deps(clock.now, { kind: 'instanceIds', instanceIds: ids }, failingMesh);
    await startAudit(d, { runId: 'mesh-down', trigger: 'schedule', toolVersion: 'test', collectForMs: 60_000 });
    clock.advance(2 * 60_000);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await expect(finalizeAudit(d, { runId: 'mesh-down', maxAttempts: 3 })).rejects.toThrow(
        'finalizing audit run mesh-down failed: minting the EKS token failed: no credentials',
      );
      expect(await registry.get('mesh-down')).toMatchObject({
        status: attempt < 3 ? 'COLLECTING' : 'FAILED',
        attempts: attempt,
        error: 'minting the EKS token failed: no credentials',
      });
    }
    expect(await finalizeAudit(d, { runId: 'mesh-down' })).toEqual({ kind: 'final', runId: 'mesh-down', status: 'FAILED' });
  });

  it('fails a run that never finished sending once its deadline passed', async () => {
    const clock = testClock();
    const d = deps(clock.now, { kind: 'tag', key: 'istio-fleet' });
    await registry.create({
      runId: 'stuck-sending',
      trigger: 'api',
      startedAt: clock.now().toISOString(),
      deadline: new Date(clock.now().getTime() + 60_000).toISOString(),
      location: 's3://x/',
    });
    expect(await finalizeAudit(d, { runId: 'stuck-sending' })).toEqual({ kind: 'sending', runId: 'stuck-sending' });
    clock.advance(61_000);
    expect(await finalizeAudit(d, { runId: 'stuck-sending' })).toEqual({
      kind: 'failed',
      runId: 'stuck-sending',
      error: 'the audit did not finish sending its commands before its deadline',
    });
  });
});
