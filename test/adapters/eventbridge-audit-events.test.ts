import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DETAIL_TYPE, EVENT_SOURCE, EventBridgeAuditEvents } from '../../lib/adapters/eventbridge-audit-events.ts';
import { AuditEventsError, type AuditEvent } from '../../lib/ports/audit-events.ts';

/** The audit's events as PutEvents entries on the default bus: source, detail-type and detail, as docs/deployment.md shows them. */

const eventBridge = mockClient(EventBridgeClient);
afterEach(() => {
  eventBridge.reset();
});

const REPORT = {
  location: 's3://evidence/runs/20260402T060000Z-scheduled/',
  files: ['s3://evidence/runs/20260402T060000Z-scheduled/report.json'],
};
const FINISHED: AuditEvent = {
  kind: 'run-finished',
  runId: '20260402T060000Z-scheduled',
  trigger: 'schedule',
  startedAt: '2026-04-02T06:00:05.000Z',
  finishedAt: '2026-04-02T06:21:40.000Z',
  summary: { vms: 3, compliant: 2, nonCompliant: 1, unknown: 0, failing: { CRITICAL: 1, HIGH: 0, MEDIUM: 2, LOW: 0, INFORMATIONAL: 0 } },
  report: REPORT,
};
const REGRESSION: AuditEvent = {
  kind: 'regression',
  runId: '20260402T060000Z-scheduled',
  previousRunId: '20260401T060000Z-scheduled',
  finishedAt: '2026-04-02T06:21:40.000Z',
  count: 1,
  regressions: [{ control: 'HEALTH-01', severity: 'CRITICAL', subject: { kind: 'vm', id: 'i-0aaaaaaaaaaaaaaa2' } }],
  report: REPORT,
};

describe('the audit events on EventBridge', () => {
  it('put each event on the default bus under the audit source, its kind the detail-type', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }, { EventId: 'b' }] });
    await new EventBridgeAuditEvents({ client: new EventBridgeClient({ region: 'eu-west-1' }) }).publish([FINISHED, REGRESSION]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    const entries = calls[0]!.args[0].input.Entries!;
    expect(entries.map((e) => [e.EventBusName, e.Source, e.DetailType])).toEqual([
      ['default', 'fleet-audit', 'Fleet audit run finished'],
      ['default', 'fleet-audit', 'Fleet audit regression'],
    ]);
    const { kind: _finished, ...finishedDetail } = FINISHED;
    const { kind: _regression, ...regressionDetail } = REGRESSION;
    expect(entries.map((e) => JSON.parse(e.Detail!) as unknown)).toEqual([finishedDetail, regressionDetail]);
    expect(EVENT_SOURCE).not.toMatch(/^aws\./);
    expect(DETAIL_TYPE).toEqual({ 'run-finished': 'Fleet audit run finished', regression: 'Fleet audit regression' });
  });

  it('fail naming each entry EventBridge refused, and why', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'a' }, { ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized' }],
    });
    const events = new EventBridgeAuditEvents({ client: new EventBridgeClient({ region: 'eu-west-1' }) });
    const refused = events.publish([FINISHED, REGRESSION]);
    await expect(refused).rejects.toThrow(AuditEventsError);
    await expect(refused).rejects.toThrow(
      'EventBridge did not accept 1 event(s): Fleet audit regression of run 20260402T060000Z-scheduled: AccessDeniedException (not authorized)',
    );
  });

  it('send at most ten entries a call, as PutEvents takes them', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const many = Array.from({ length: 12 }, (_, i) => ({ ...FINISHED, runId: `run-${i}` }));
    await new EventBridgeAuditEvents({ client: new EventBridgeClient({ region: 'eu-west-1' }), busName: 'audit' }).publish(many);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length)).toEqual([10, 2]);
    expect(calls[1]!.args[0].input.Entries![0]!.EventBusName).toBe('audit');
  });

  it('let a failed call fail the publication', async () => {
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(
      new EventBridgeAuditEvents({ client: new EventBridgeClient({ region: 'eu-west-1' }) }).publish([FINISHED]),
    ).rejects.toThrow('Rate exceeded');
  });
});
