import type { EventBridgeEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCommandStatusHandler, type CommandStatusHandlerDeps } from '../../functions/ssm-command-status.ts';
import { createStartAuditHandler, type StartAuditHandlerDeps } from '../../functions/start-audit.ts';
import { createSweepHandler, type SweepHandlerDeps } from '../../functions/sweep.ts';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoRunRegistry } from '../../lib/adapters/dynamo-run-store.ts';
import { S3RunHistory } from '../../lib/adapters/s3-run-history.ts';
import type { Report } from '../../lib/core/report.ts';
import { AuditEventsError, type AuditEvent, type AuditEvents, type RegressionEvent } from '../../lib/ports/audit-events.ts';
import type { RunHistory } from '../../lib/ports/run-history.ts';
import { S3RVER_CREDENTIALS } from '../../sim/s3-server.ts';
import type { CommandFleet } from '../../lib/ports/run-registry.ts';
import { NO_CLUSTER_CONFIGURED } from '../../lib/use-cases/finalize-audit.ts';
import { PowertoolsAuditMetrics } from '../../lib/adapters/powertools-audit-metrics.ts';
import { captureEmf, declared, type EmfRecord } from './support/emf.ts';
import type { TestVm } from '../support/bundle-builder.ts';
import { FakeFleet, fakeMesh, RecordingLogger } from './support/fakes.ts';
import { startLocalStack, type LocalStack } from './support/stack.ts';

/**
 * The scheduled start, the SSM status event and the sweep, called with the events their triggers send,
 * over the real storage side (s3rver, dynalite) and an in-memory fleet and mesh.
 */

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
});
afterAll(async () => {
  await stack?.close();
});
// Every test's metrics are captured: those that check them read `emf`, the others keep them off the output.
let emf: ReturnType<typeof captureEmf>;
beforeEach(() => {
  emf = captureEmf();
});
afterEach(() => {
  emf.stop();
});

const VMS: TestVm[] = [
  { instanceId: 'i-0aaaaaaaaaaaaaaa1' },
  { instanceId: 'i-0aaaaaaaaaaaaaaa2', activeState: 'failed', subState: 'failed' },
  { instanceId: 'mi-0aaaaaaaaaaaaaaa3' },
];
const CONTEXT = { awsRequestId: 'req-1' };
const T0 = new Date('2026-03-01T06:00:05.000Z');

/** Everything the three handlers share for one scenario: one fleet, one clock. */
interface ScenarioOptions {
  cluster?: boolean;
  /** A registry of its own, so that no other test's run is taken for the previous one. */
  registry?: DynamoRunRegistry;
  start?: Date;
  events?: AuditEvents;
  history?: RunHistory;
  /** The fleet, when not a FakeFleet of the scenario's VMs. */
  fleet?: FakeFleet;
}

function scenario(commandId: string, vms: TestVm[] = VMS, options: ScenarioOptions = {}) {
  const fleet = options.fleet ?? new FakeFleet(vms, commandId);
  const logger = new RecordingLogger();
  let now = (options.start ?? T0).getTime();
  const clock = () => new Date(now);
  let closed = 0;
  // The fleet's running count of calls stands for the composition root's, which the functions pass the same way.
  const common = {
    registry: options.registry ?? stack.registry,
    store: stack.store,
    fleet: (): CommandFleet => fleet,
    clock,
    apiCalls: () => fleet.callCounts(),
  };
  const metrics = new PowertoolsAuditMetrics({ namespace: 'FleetAuditTest', serviceName: 'fleet-audit' });
  const start: StartAuditHandlerDeps = {
    audit: common,
    collectForMs: 30 * 60_000,
    toolVersion: 'test',
    targets: { tag: { key: 'istio-vm' } },
    logger,
    metrics,
    close: () => closed++,
  };
  const finalize: CommandStatusHandlerDeps & SweepHandlerDeps = {
    audit: {
      ...common,
      metrics,
      ...(options.cluster === false ? {} : { mesh: async () => fakeMesh(vms) }),
      ...(options.events ? { events: options.events } : {}),
      ...(options.history ? { history: options.history } : {}),
    },
    logger,
    metrics,
    close: () => closed++,
  };
  return {
    fleet,
    logger,
    advance: (ms: number) => (now += ms),
    closed: () => closed,
    startHandler: createStartAuditHandler(async () => start),
    statusHandler: createCommandStatusHandler(async () => finalize),
    sweepHandler: createSweepHandler(async () => finalize),
  };
}

/** The schedule input as EventBridge Scheduler delivers it, context attribute filled in. */
function scheduleInput(scheduledTime: string): unknown {
  return JSON.parse(JSON.stringify({ trigger: 'schedule', scheduledTime }));
}

type CommandStatusDetail = {
  'command-id': string;
  'document-name': string;
  'expire-after': string;
  parameters: Record<string, string[]>;
  'requested-date-time': string;
  status: string;
};

/** An "EC2 Command Status-change Notification" as the EventBridge rule delivers it. */
function statusEvent(commandId: string, status: string): EventBridgeEvent<'EC2 Command Status-change Notification', CommandStatusDetail> {
  return {
    version: '0',
    id: '51c0891d-0e34-45b1-83d6-95db273d1602',
    'detail-type': 'EC2 Command Status-change Notification',
    source: 'aws.ssm',
    account: '123456789012',
    time: '2026-03-01T06:01:32Z',
    region: 'eu-west-1',
    resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1'],
    detail: {
      'command-id': commandId,
      'document-name': 'fleet-audit-dev-diagnostics',
      'expire-after': '2026-03-01T06:11:30.049Z',
      parameters: { executionTimeout: ['300'] },
      'requested-date-time': '2026-03-01T06:01:30.049Z',
      status,
    },
  };
}

describe('the scheduled start', () => {
  it('starts the audit named by the schedule time, once however often the scheduler delivers it', async () => {
    const s = scenario('cmd-start-1');
    const first = await s.startHandler(scheduleInput('2026-03-01T06:00:00Z'), CONTEXT);
    expect(first).toMatchObject({ kind: 'started', runId: '20260301T060000Z-scheduled', commandIds: ['cmd-start-1'], expected: 3 });
    expect(await s.startHandler(scheduleInput('2026-03-01T06:00:00Z'), CONTEXT)).toEqual({
      kind: 'duplicate',
      runId: '20260301T060000Z-scheduled',
    });
    expect(s.fleet.sent).toHaveLength(1);
    expect(await stack.registry.get('20260301T060000Z-scheduled')).toMatchObject({
      status: 'COLLECTING',
      trigger: 'schedule',
      expectedCount: 3,
    });
    expect(s.logger.lines.find((l) => l.message === 'audit started')).toMatchObject({
      keys: { runId: '20260301T060000Z-scheduled', requestId: 'req-1', trigger: 'schedule' },
    });
    expect(s.closed()).toBe(2);
  });

  it('refuses a schedule input without its time, naming the field', async () => {
    const s = scenario('cmd-start-2');
    await expect(s.startHandler({ trigger: 'schedule' }, CONTEXT)).rejects.toThrow(/^the schedule input is malformed: scheduledTime: /);
    await expect(s.startHandler({ trigger: 'schedule', scheduledTime: '<aws.scheduler.scheduled-time>' }, CONTEXT)).rejects.toThrow(
      /scheduledTime: /,
    );
    expect(s.logger.lines.at(-1)).toMatchObject({ level: 'error', message: 'the audit could not be started' });
    expect(s.fleet.sent).toHaveLength(0);
  });
});

describe('the SSM command status event', () => {
  it('finalizes the run of the command: evidence, reports and DONE, logging no VM output', async () => {
    const s = scenario('cmd-status-1');
    const started = await s.startHandler(scheduleInput('2026-03-01T07:00:00Z'), CONTEXT);
    expect(started.kind).toBe('started');
    const result = await s.statusHandler(statusEvent('cmd-status-1', 'Success'), CONTEXT);
    expect(result).toMatchObject({
      kind: 'done',
      runId: '20260301T070000Z-scheduled',
      summary: { vms: 3, compliant: expect.any(Number), nonCompliant: expect.any(Number) },
    });
    const run = await stack.registry.get('20260301T070000Z-scheduled');
    expect(run).toMatchObject({ status: 'DONE', collectedCount: 3 });
    expect(run?.summary?.nonCompliant).toBeGreaterThanOrEqual(1);
    expect(await stack.store.readReportText('20260301T070000Z-scheduled')).toContain('"schemaVersion": 1');
    // A second event for the same command (SSM sends one per status change) does nothing more.
    expect(await s.statusHandler(statusEvent('cmd-status-1', 'Success'), CONTEXT)).toEqual({
      kind: 'final',
      runId: '20260301T070000Z-scheduled',
      status: 'DONE',
    });
    expect(s.logger.lines.find((l) => l.message === 'run looked at')).toMatchObject({
      keys: { commandId: 'cmd-status-1', commandStatus: 'Success' },
      extra: { outcome: 'done', vms: 3 },
    });
    expect(s.logger.text()).not.toMatch(/@@fa-|ActiveState|ISTIO_/);
  });

  it('keeps collecting while invocations of the run still run', async () => {
    const s = scenario('cmd-status-2');
    s.fleet.running.add('mi-0aaaaaaaaaaaaaaa3');
    await s.startHandler(scheduleInput('2026-03-01T08:00:00Z'), CONTEXT);
    expect(await s.statusHandler(statusEvent('cmd-status-2', 'Failed'), CONTEXT)).toEqual({
      kind: 'collecting',
      runId: '20260301T080000Z-scheduled',
      collected: 2,
      expected: 3,
      pending: 1,
    });
    s.fleet.running.clear();
    expect(await s.statusHandler(statusEvent('cmd-status-2', 'Success'), CONTEXT)).toMatchObject({ kind: 'done' });
  });

  it('ignores a command still in progress and one no run knows', async () => {
    const s = scenario('cmd-status-3');
    expect(await s.statusHandler(statusEvent('cmd-status-3', 'InProgress'), CONTEXT)).toEqual({ kind: 'ignored', status: 'InProgress' });
    expect(await s.statusHandler(statusEvent('cmd-of-someone-else', 'Success'), CONTEXT)).toEqual({
      kind: 'unknown-command',
      commandId: 'cmd-of-someone-else',
    });
    expect(s.logger.lines.at(-1)).toMatchObject({ level: 'warn', keys: { commandId: 'cmd-of-someone-else' } });
  });

  it('refuses an event of another kind, naming the field', async () => {
    const s = scenario('cmd-status-4');
    const other = { ...statusEvent('cmd-status-4', 'Success'), 'detail-type': 'EC2 Command Invocation Status-change Notification' };
    await expect(s.statusHandler(other, CONTEXT)).rejects.toThrow(/^the SSM command status event is malformed: detail-type: /);
    const noId = statusEvent('cmd-status-4', 'Success') as { detail: Record<string, unknown> };
    delete noId.detail['command-id'];
    await expect(s.statusHandler(noId, CONTEXT)).rejects.toThrow('the SSM command status event is malformed: detail.command-id: ');
  });
});

/** The controls that need the cluster (docs/controls.md): without one they cannot say anything. */
const MESH_CONTROLS = [
  'XDS-01',
  'XDS-02',
  'XDS-03',
  'XDS-05',
  'REG-01',
  'REG-02',
  'REG-03',
  'REG-04',
  'REG-05',
  'REG-06',
  'REG-07',
  'REG-08',
  'CFG-02',
  'CERT-02',
  'FLEET-01',
];

describe('a deployment with no cluster configured (the default parameters)', () => {
  it('checks the hosts and reports every mesh control SKIP, "no cluster configured", in a DONE run', async () => {
    const s = scenario(
      'cmd-no-cluster-1',
      VMS.map((vm, i) => ({ ...vm, ip: `10.0.0.${i + 1}` })),
      { cluster: false },
    );
    await s.startHandler(scheduleInput('2026-03-01T10:00:00Z'), CONTEXT);
    const result = await s.statusHandler(statusEvent('cmd-no-cluster-1', 'Success'), CONTEXT);
    expect(result).toMatchObject({ kind: 'done', runId: '20260301T100000Z-scheduled' });
    expect(await stack.registry.get('20260301T100000Z-scheduled')).toMatchObject({ status: 'DONE' });
    const report = JSON.parse((await stack.store.readReportText('20260301T100000Z-scheduled')) ?? '{}') as Report;
    const reasons = new Map(report.findings.filter((f) => f.message === NO_CLUSTER_CONFIGURED).map((f) => [f.control, f.status]));
    // Every control that reads the cluster or the VM ↔ mesh join, and only those, is SKIP with the reason.
    expect(Object.fromEntries(reasons)).toEqual(Object.fromEntries(MESH_CONTROLS.map((id) => [id, 'SKIP'])));
    expect(report.findings.filter((f) => /cluster\/|cluster evidence|join with the mesh/.test(f.message))).toEqual([]);
    // The host checks ran: the failed unit is found, and it alone makes its VM NON_COMPLIANT.
    const health = report.findings.filter((f) => f.control === 'HEALTH-01').map((f) => [f.subject.id, f.status]);
    expect(health).toEqual([
      ['i-0aaaaaaaaaaaaaaa1', 'PASS'],
      ['i-0aaaaaaaaaaaaaaa2', 'FAIL'],
      ['mi-0aaaaaaaaaaaaaaa3', 'PASS'],
    ]);
    expect(report.vms.find((v) => v.instanceId === 'i-0aaaaaaaaaaaaaaa2')?.status).toBe('NON_COMPLIANT');
    const bundle = await (await stack.store.resumeRun('20260301T100000Z-scheduled')).evidence.readBundle();
    expect(bundle.manifest.clusterNotRead).toBe(NO_CLUSTER_CONFIGURED);
    expect(bundle.cluster).toBeUndefined();
  });
});

describe('the metrics of the finalizing functions (embedded metric format on standard output)', () => {
  const withMetric = (name: string): EmfRecord[] => emf.records.filter((r) => name in declared(r));

  it('write one record per finished run: its counts, duration and API calls, in the configured namespace', async () => {
    const s = scenario('cmd-metrics-1');
    await s.startHandler(scheduleInput('2026-03-01T11:00:00Z'), CONTEXT);
    s.advance(90_000);
    await s.statusHandler(statusEvent('cmd-metrics-1', 'Success'), CONTEXT);
    const [record, ...others] = withMetric('RunsFinished');
    expect(others).toEqual([]);
    expect(record!._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'FleetAuditTest',
        Dimensions: [['service']],
        Metrics: expect.arrayContaining([
          { Name: 'VmsAudited', Unit: 'Count' },
          { Name: 'RunDuration', Unit: 'Seconds' },
          { Name: 'ApiCalls', Unit: 'Count' },
        ]),
      },
    ]);
    expect(Object.keys(declared(record!)).sort()).toEqual([
      'ApiCalls',
      'RunDuration',
      'RunsFinished',
      'VmsAudited',
      'VmsCompliant',
      'VmsNonCompliant',
      'VmsUnknown',
    ]);
    const run = await stack.registry.get('20260301T110000Z-scheduled');
    expect(record).toMatchObject({
      service: 'fleet-audit',
      runId: '20260301T110000Z-scheduled',
      RunsFinished: 1,
      VmsAudited: 3,
      VmsCompliant: run!.summary!.compliant,
      VmsNonCompliant: run!.summary!.nonCompliant,
      VmsUnknown: run!.summary!.unknown,
      // From the run's start (the scheduler's delivery, T0) to the finalization 90 s later.
      RunDuration: 90,
      // Two collection passes (before and after the claim), each listing the command's invocations once.
      ApiCalls: s.fleet.listed,
    });
    expect(s.fleet.listed).toBe(2);
    expect(emf.records.filter((r) => 'Errors' in r)).toEqual([]);
  });

  it('count each failure under its kind, in a record of its own', async () => {
    const s = scenario('cmd-metrics-2');
    await expect(s.statusHandler({ source: 'aws.ssm' }, CONTEXT)).rejects.toThrow(/malformed/);
    await expect(s.sweepHandler({ trigger: 'sweep', extra: 1 }, CONTEXT)).resolves.toBeDefined();
    const errors = withMetric('Errors');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ errorKind: 'invalid-event', Errors: 1, service: 'fleet-audit' });
    expect(errors[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'errorKind']]);
    expect(Object.keys(declared(errors[0]!))).toEqual(['Errors']);
  });

  it('report how many runs each sweep found overdue', async () => {
    const s = scenario('cmd-metrics-3', [{ instanceId: 'i-0ccccccccccccccc1' }]);
    await s.startHandler(scheduleInput('2026-03-01T12:00:00Z'), CONTEXT);
    s.fleet.running.add('i-0ccccccccccccccc1');
    s.advance(31 * 60_000);
    const swept = await s.sweepHandler({ trigger: 'sweep' }, CONTEXT);
    const overdue = withMetric('RunsOverdue');
    expect(overdue.map((r) => r.RunsOverdue)).toEqual([swept.runs.length]);
    expect(swept.runs.map((r) => r.runId)).toContain('20260301T120000Z-scheduled');
  });
});

describe('the API calls of a run', () => {
  /** A fleet that also counts the commands it sends, as SsmFleetRunner does. */
  class SendCountingFleet extends FakeFleet {
    override callCounts(): Record<string, number> {
      return { ...super.callCounts(), 'SSM.SendCommand': this.sent.length };
    }
  }

  it('are those of its start, of the passes that did not finish it and of its finalization, in the manifest and ApiCalls', async () => {
    const vms: TestVm[] = [{ instanceId: 'i-0ddddddddddddddd1' }, { instanceId: 'i-0ddddddddddddddd2' }];
    const fleet = new SendCountingFleet(vms, 'cmd-calls-1');
    const s = scenario('cmd-calls-1', vms, { fleet });
    const runId = '20260301T130000Z-scheduled';
    await s.startHandler(scheduleInput('2026-03-01T13:00:00Z'), CONTEXT);
    expect((await stack.registry.get(runId))?.apiCalls).toEqual({ 'SSM.SendCommand': 1 });
    fleet.running.add('i-0ddddddddddddddd2');
    s.advance(30_000);
    expect(await s.statusHandler(statusEvent('cmd-calls-1', 'Success'), CONTEXT)).toMatchObject({ kind: 'collecting' });
    expect((await stack.registry.get(runId))?.apiCalls).toEqual({ 'SSM.ListCommandInvocations': 1, 'SSM.SendCommand': 1 });
    fleet.running.clear();
    s.advance(30_000);
    expect(await s.statusHandler(statusEvent('cmd-calls-1', 'Success'), CONTEXT)).toMatchObject({ kind: 'done' });
    // One pass above, then the pass and the sealed pass of the finalization.
    expect(fleet.listed).toBe(3);
    const manifest = await (await stack.store.resumeRun(runId)).readManifest();
    expect(manifest.apiCalls).toEqual({ 'SSM.ListCommandInvocations': 3, 'SSM.SendCommand': 1 });
    expect(emf.records.filter((r) => 'RunsFinished' in declared(r))).toEqual([expect.objectContaining({ runId, ApiCalls: 4 })]);
  });
});

describe('the events of a finished run', () => {
  /** The events published, in order. */
  class RecordingEvents implements AuditEvents {
    readonly published: AuditEvent[] = [];
    async publish(events: readonly AuditEvent[]): Promise<void> {
      this.published.push(...events);
    }
  }

  it('tell that a run finished, and what failed at CRITICAL or HIGH that the previous run of its trigger did not', async () => {
    await stack.dynamo.createRunTable('fleet-audit-runs-events');
    const registry = new DynamoRunRegistry({ tableName: 'fleet-audit-runs-events', client: stack.dynamo.client });
    const s3 = new S3Client({
      region: 'eu-west-1',
      endpoint: stack.s3.endpoint,
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      maxAttempts: 1,
    });
    const history = new S3RunHistory({ client: s3, bucket: stack.bucket });
    const events = new RecordingEvents();
    const healthy = VMS.map((vm, i) => ({ instanceId: vm.instanceId, ip: `10.0.1.${i + 1}` }));
    const options = { registry, events, history };

    // The first run has no previous one: it is told as finished, and no regression is claimed.
    const first = scenario('cmd-events-1', healthy, { ...options, start: new Date('2026-04-01T06:00:05Z') });
    await first.startHandler(scheduleInput('2026-04-01T06:00:00Z'), CONTEXT);
    expect(await first.statusHandler(statusEvent('cmd-events-1', 'Success'), CONTEXT)).toMatchObject({
      kind: 'done',
      announced: { published: ['run-finished'] },
    });
    expect(events.published).toEqual([
      {
        kind: 'run-finished',
        runId: '20260401T060000Z-scheduled',
        trigger: 'schedule',
        startedAt: '2026-04-01T06:00:05.000Z',
        finishedAt: '2026-04-01T06:00:05.000Z',
        summary: (await registry.get('20260401T060000Z-scheduled'))!.summary,
        report: {
          location: `s3://${stack.bucket}/runs/20260401T060000Z-scheduled/`,
          files: expect.arrayContaining([`s3://${stack.bucket}/runs/20260401T060000Z-scheduled/report.json`]),
        },
      },
    ]);

    // The next day one VM's proxy has failed.
    const broken = healthy.map((vm, i) => (i === 1 ? { ...vm, activeState: 'failed', subState: 'failed' } : vm));
    const second = scenario('cmd-events-2', broken, { ...options, start: new Date('2026-04-02T06:00:05Z') });
    await second.startHandler(scheduleInput('2026-04-02T06:00:00Z'), CONTEXT);
    expect(await second.statusHandler(statusEvent('cmd-events-2', 'Success'), CONTEXT)).toMatchObject({
      kind: 'done',
      announced: { published: ['run-finished', 'regression'] },
    });
    const regression = events.published.at(-1) as RegressionEvent;
    expect(regression).toMatchObject({
      kind: 'regression',
      runId: '20260402T060000Z-scheduled',
      previousRunId: '20260401T060000Z-scheduled',
      finishedAt: '2026-04-02T06:00:05.000Z',
    });

    // Exactly the CRITICAL and HIGH FAILs of the second report that the first report did not have.
    const failsOf = async (runId: string) => {
      const report = JSON.parse((await stack.store.readReportText(runId)) ?? '{}') as Report;
      return report.findings
        .filter((f) => f.status === 'FAIL' && (f.severity === 'CRITICAL' || f.severity === 'HIGH'))
        .map((f) => `${f.control} ${f.subject.kind} ${f.subject.id}`);
    };
    const before = new Set(await failsOf('20260401T060000Z-scheduled'));
    const expected = (await failsOf('20260402T060000Z-scheduled')).filter((f) => !before.has(f));
    expect(regression.regressions.map((r) => `${r.control} ${r.subject.kind} ${r.subject.id}`).sort()).toEqual(
      [...new Set(expected)].sort(),
    );
    expect(regression.count).toBe(regression.regressions.length);
    expect(regression.regressions).toContainEqual({
      control: 'HEALTH-01',
      severity: 'CRITICAL',
      subject: { kind: 'vm', id: 'i-0aaaaaaaaaaaaaaa2' },
    });
    expect(regression.regressions.every((r) => r.subject.id === 'i-0aaaaaaaaaaaaaaa2')).toBe(true);

    // The previous run was compared on the digest the finalization kept beside its report.
    const stored = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: 'runs/20260401T060000Z-scheduled/digest.json' }));
    expect(JSON.parse(await stored.Body!.transformToString())).toMatchObject({
      digestVersion: 1,
      runId: '20260401T060000Z-scheduled',
      vms: 3,
    });

    // The same failures a day later are no regression.
    const third = scenario('cmd-events-3', broken, { ...options, start: new Date('2026-04-03T06:00:05Z') });
    await third.startHandler(scheduleInput('2026-04-03T06:00:00Z'), CONTEXT);
    expect(await third.statusHandler(statusEvent('cmd-events-3', 'Success'), CONTEXT)).toMatchObject({
      kind: 'done',
      announced: { published: ['run-finished'] },
    });
    s3.destroy();
  });

  it('keep the run DONE when the events cannot be published, and count it', async () => {
    const failing: AuditEvents = {
      publish: async () =>
        Promise.reject(new AuditEventsError('EventBridge did not accept 1 event(s): run-finished: AccessDeniedException')),
    };
    const s = scenario('cmd-events-4', [{ instanceId: 'i-0ddddddddddddddd1' }], {
      events: failing,
      start: new Date('2026-05-01T06:00:05Z'),
    });
    await s.startHandler(scheduleInput('2026-05-01T06:00:00Z'), CONTEXT);
    const result = await s.statusHandler(statusEvent('cmd-events-4', 'Success'), CONTEXT);
    expect(result).toMatchObject({ kind: 'done', announced: { error: expect.stringContaining('AccessDeniedException') } });
    expect(await stack.registry.get('20260501T060000Z-scheduled')).toMatchObject({ status: 'DONE' });
    expect(emf.records.filter((r) => r.errorKind === 'events-not-published')).toHaveLength(1);
    expect(s.logger.lines.find((l) => l.message === 'run looked at')?.extra).toMatchObject({
      eventsNotPublished: expect.stringContaining('AccessDeniedException'),
    });
  });
});

describe('the sweep', () => {
  it('finalizes an overdue run whose event never came, and only that', async () => {
    const s = scenario('cmd-sweep-1', [{ instanceId: 'i-0bbbbbbbbbbbbbbb1' }]);
    await s.startHandler(scheduleInput('2026-03-01T09:00:00Z'), CONTEXT);
    s.fleet.running.add('i-0bbbbbbbbbbbbbbb1');
    s.advance(29 * 60_000);
    const early = await s.sweepHandler({ trigger: 'sweep' }, CONTEXT);
    expect(early.runs.map((r) => r.runId)).not.toContain('20260301T090000Z-scheduled');
    s.advance(2 * 60_000);
    const swept = await s.sweepHandler({ trigger: 'sweep' }, CONTEXT);
    expect(swept.runs.find((r) => r.runId === '20260301T090000Z-scheduled')).toMatchObject({ result: { kind: 'done' } });
    const bundle = await (await stack.store.resumeRun('20260301T090000Z-scheduled')).evidence.readBundle();
    expect(bundle.invocations['i-0bbbbbbbbbbbbbbb1']).toMatchObject({ Status: 'InProgress', ResponseCode: -1 });
  });

  it('refuses an input that is not the sweep schedule', async () => {
    const s = scenario('cmd-sweep-2');
    await expect(s.sweepHandler({ trigger: 'schedule' }, CONTEXT)).rejects.toThrow(/^the sweep schedule input is malformed: trigger: /);
  });
});
