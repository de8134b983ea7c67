import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunRegistry } from '../../lib/adapters/dynamo-run-store.ts';
import type { NewRun, RunSummary } from '../../lib/ports/run-registry.ts';
import { startDynalite, type LocalDynamo } from '../functions/support/local-aws.ts';

/** The run registry against dynalite, with the real SDK clients. */

let dynamo: LocalDynamo;
let registry: DynamoRunRegistry;
const TABLE = 'fleet-audit-runs';
const T0 = new Date('2026-03-01T06:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
const SUMMARY: RunSummary = { vms: 3, compliant: 2, nonCompliant: 1, unknown: 0, failing: { CRITICAL: 1 } };

beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.createRunTable(TABLE);
  registry = new DynamoRunRegistry({ tableName: TABLE, client: dynamo.client, retentionDays: 30 });
});

afterAll(async () => {
  await dynamo?.close();
});

function newRun(runId: string, deadlineMinutes = 30): NewRun {
  return {
    runId,
    trigger: 'schedule',
    startedAt: T0.toISOString(),
    deadline: at(deadlineMinutes).toISOString(),
    location: `s3://bucket/runs/${runId}/`,
  };
}

describe('DynamoRunRegistry against dynalite', () => {
  it('records a run once, with its TTL, and walks it SENDING → COLLECTING → ANALYZING → DONE', async () => {
    expect(await registry.create(newRun('run-a'))).toBe(true);
    expect(await registry.create(newRun('run-a'))).toBe(false);
    expect(await registry.get('run-a')).toEqual({
      runId: 'run-a',
      status: 'SENDING',
      trigger: 'schedule',
      startedAt: T0.toISOString(),
      deadline: at(30).toISOString(),
      commandIds: [],
      expectedCount: 0,
      collectedCount: 0,
      attempts: 0,
      location: 's3://bucket/runs/run-a/',
    });
    const raw = await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'run#run-a' } } }));
    expect(raw.Item?.expiresAt).toEqual({ N: String(T0.getTime() / 1000 + 30 * 86_400) });

    expect(await registry.markCollecting('run-a', { commandIds: ['cmd-1', 'cmd-2'], expectedCount: 3, collectedCount: 1 })).toBe(true);
    expect(await registry.markCollecting('run-a', { commandIds: ['cmd-9'], expectedCount: 9, collectedCount: 9 })).toBe(false);
    expect(await registry.findRunByCommand('cmd-2')).toBe('run-a');
    expect(await registry.findRunByCommand('cmd-unknown')).toBeUndefined();
    const mapping = await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'command#cmd-1' } } }));
    expect(mapping.Item?.expiresAt).toEqual(raw.Item?.expiresAt);

    await registry.recordProgress('run-a', 2);
    await registry.recordProgress('run-a', 1);
    expect((await registry.get('run-a'))?.collectedCount).toBe(2);

    const claim = await registry.claimFinalization('run-a', at(5), at(15));
    expect(claim).toMatchObject({ attempt: 1 });
    expect(await registry.complete('run-a', claim!, { finishedAt: at(6).toISOString(), collectedCount: 3, summary: SUMMARY })).toBe(true);
    expect(await registry.get('run-a')).toMatchObject({
      status: 'DONE',
      finishedAt: at(6).toISOString(),
      collectedCount: 3,
      summary: SUMMARY,
      commandIds: ['cmd-1', 'cmd-2'],
      expectedCount: 3,
    });
    // Done is final: no claim, no second completion, no failure.
    expect(await registry.claimFinalization('run-a', at(60), at(70))).toBeUndefined();
    expect(await registry.complete('run-a', claim!, { finishedAt: at(7).toISOString(), collectedCount: 3, summary: SUMMARY })).toBe(false);
    expect(await registry.fail('run-a', { error: 'late', finishedAt: at(8).toISOString() }, ['SENDING', 'COLLECTING', 'ANALYZING'])).toBe(
      false,
    );
  });

  it('lets one of two concurrent finalizations win, and another take over only after the lease', async () => {
    await registry.create(newRun('run-b'));
    await registry.markCollecting('run-b', { commandIds: ['cmd-b'], expectedCount: 1, collectedCount: 1 });
    const claims = await Promise.all([
      registry.claimFinalization('run-b', at(1), at(11)),
      registry.claimFinalization('run-b', at(1), at(11)),
    ]);
    const won = claims.filter((c) => c !== undefined);
    expect(won).toHaveLength(1);
    expect(await registry.claimFinalization('run-b', at(10), at(20))).toBeUndefined();
    const second = await registry.claimFinalization('run-b', at(12), at(22));
    expect(second).toMatchObject({ attempt: 2 });
    // The first holder lost the run: it can neither complete nor fail it.
    expect(await registry.complete('run-b', won[0]!, { finishedAt: at(13).toISOString(), collectedCount: 1, summary: SUMMARY })).toBe(
      false,
    );
    expect(await registry.fail('run-b', { error: 'x', finishedAt: at(13).toISOString() }, ['ANALYZING'], won[0])).toBe(false);
    expect(await registry.complete('run-b', second!, { finishedAt: at(14).toISOString(), collectedCount: 1, summary: SUMMARY })).toBe(true);
  });

  it('gives a released run back to collection with its error, and fails a run from the states named only', async () => {
    await registry.create(newRun('run-c'));
    expect(await registry.fail('run-c', { error: 'not now', finishedAt: at(1).toISOString() }, ['COLLECTING'])).toBe(false);
    await registry.markCollecting('run-c', { commandIds: ['cmd-c'], expectedCount: 1, collectedCount: 0 });
    const claim = (await registry.claimFinalization('run-c', at(1), at(11)))!;
    await registry.releaseFinalization('run-c', claim, 'GetObject failed: SlowDown');
    expect(await registry.get('run-c')).toMatchObject({ status: 'COLLECTING', error: 'GetObject failed: SlowDown', attempts: 1 });
    expect(await registry.fail('run-c', { error: 'x'.repeat(5_000), finishedAt: at(2).toISOString() }, ['COLLECTING'])).toBe(true);
    const failed = await registry.get('run-c');
    expect(failed).toMatchObject({ status: 'FAILED', finishedAt: at(2).toISOString() });
    expect(failed?.error?.length).toBe(2_000);
  });

  it('lists the open runs past their deadline, oldest first, and none that are final', async () => {
    const fresh = new DynamoRunRegistry({ tableName: 'overdue-runs', client: dynamo.client });
    await dynamo.createRunTable('overdue-runs');
    await fresh.create(newRun('late-2', 20));
    await fresh.create(newRun('late-1', 10));
    await fresh.create(newRun('not-yet', 90));
    await fresh.create(newRun('nothing-sent', 90));
    await fresh.markCollecting('nothing-sent', { commandIds: [], expectedCount: 0, collectedCount: 0, deadline: at(15).toISOString() });
    await fresh.create(newRun('done', 5));
    await fresh.markCollecting('done', { commandIds: [], expectedCount: 0, collectedCount: 0 });
    const claim = (await fresh.claimFinalization('done', at(6), at(16)))!;
    await fresh.complete('done', claim, { finishedAt: at(7).toISOString(), collectedCount: 0, summary: SUMMARY });
    expect((await fresh.listOverdue(at(60), 10)).map((r) => r.runId)).toEqual(['late-1', 'nothing-sent', 'late-2']);
    expect((await fresh.listOverdue(at(60), 1)).map((r) => r.runId)).toEqual(['late-1']);
    expect(await fresh.listOverdue(at(0), 10)).toEqual([]);
  });

  it('refuses a malformed item instead of trusting it, naming the table and the run', async () => {
    await dynamo.client.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'run#run-bad' }, runId: { S: 'run-bad' }, status: { S: 'WEIRD' } } }),
    );
    await expect(registry.get('run-bad')).rejects.toThrow(/^table fleet-audit-runs: the item of run run-bad is malformed: status: /);
  });

  it('names the call and the table when DynamoDB refuses', async () => {
    const missing = new DynamoRunRegistry({ tableName: 'no-such-table', client: dynamo.client });
    await expect(missing.get('run-x')).rejects.toThrow(/^GetItem failed: ResourceNotFoundException.*\(table no-such-table, run run-x\)$/);
  });
});
