import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunRegistry } from '../../lib/adapters/dynamo-run-store.ts';
import { RunCursorError } from '../../lib/ports/run-registry.ts';
import { startDynalite, type LocalDynamo } from '../functions/support/local-aws.ts';

// Listing runs newest first through the byStart index, page by page, against dynalite.
let dynamo: LocalDynamo;
let registry: DynamoRunRegistry;

beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.createRunTable('runs');
  registry = new DynamoRunRegistry({ tableName: 'runs', client: dynamo.client });
  for (let day = 1; day <= 5; day++) {
    const startedAt = `2026-11-0${day}T06:00:00.000Z`;
    await registry.create({
      runId: `run-${day}`,
      trigger: 'schedule',
      startedAt,
      deadline: `2026-11-0${day}T07:00:00.000Z`,
      location: `s3://b/runs/run-${day}/`,
    });
  }
});
afterAll(async () => dynamo?.close());

describe('DynamoRunRegistry.list', () => {
  it('lists runs newest first, a page at a time, until the last page has no next cursor', async () => {
    const first = await registry.list({ limit: 2 });
    expect(first.runs.map((r) => r.runId)).toEqual(['run-5', 'run-4']);
    const second = await registry.list({ limit: 2, cursor: first.next! });
    expect(second.runs.map((r) => r.runId)).toEqual(['run-3', 'run-2']);
    const third = await registry.list({ limit: 2, cursor: second.next! });
    expect(third.runs.map((r) => r.runId)).toEqual(['run-1']);
    const all = await registry.list({ limit: 10 });
    expect(all.runs).toHaveLength(5);
    expect(all.next).toBeUndefined();
  });

  it('refuses a cursor it did not hand out', async () => {
    await expect(registry.list({ limit: 2, cursor: 'bm90LWpzb24' })).rejects.toBeInstanceOf(RunCursorError);
    const forged = Buffer.from(JSON.stringify({ pk: 'command#x', listKey: 'RUN', started: 'x' })).toString('base64url');
    await expect(registry.list({ limit: 2, cursor: forged })).rejects.toThrow('the cursor is not one this API handed out');
  });
});
