import { Readable } from 'node:stream';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  type CommandInvocation,
  type ListCommandInvocationsCommandInput,
} from '@aws-sdk/client-ssm';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SsmFleetRunner, type SsmFleetRunnerOptions } from '../../lib/adapters/ssm-fleet-runner.ts';
import { collect01 } from '../../lib/core/controls/collection.ts';
import type { Invocation } from '../../lib/core/evidence-bundle.ts';
import { MAX_VM_OUTPUT_BYTES } from '../../lib/core/evidence-limits.ts';

/** The collector's S3 reads: bounded, checked against SSM's own copy, waited for; and how often it lists. */

const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
afterAll(() => {
  ssm.restore();
  s3.restore();
});

const COMMAND = '00000000-0000-4000-8000-000000000001';
const ENDED = new Date('2025-01-01T00:00:05Z');

function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
}

function clock(start = ENDED.getTime() + 1_000): { sleeps: number[]; options: Pick<SsmFleetRunnerOptions, 'sleep' | 'now' | 'random'> } {
  let now = start;
  const sleeps: number[] = [];
  return { sleeps, options: { now: () => now, random: () => 0.5, sleep: async (ms) => void (sleeps.push(ms), (now += ms)) } };
}

function runner(instanceIds: string[], overrides: Partial<SsmFleetRunnerOptions> = {}, time = clock()): SsmFleetRunner {
  return new SsmFleetRunner({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    bucket: 'evidence',
    keyPrefix: 'runs/r1/ssm-output',
    documentName: 'FleetAudit-Diagnostics',
    target: { kind: 'instanceIds', instanceIds },
    poll: { initialDelayMs: 1000, maxDelayMs: 5000 },
    ...time.options,
    ...overrides,
  });
}

function success(instanceId: string, output: string): CommandInvocation {
  const url = `https://s3.eu-west-1.amazonaws.com/evidence/runs/r1/ssm-output/${COMMAND}/${instanceId}/awsrunShellScript/0.awsrunShellScript/stdout`;
  return {
    CommandId: COMMAND,
    InstanceId: instanceId,
    Status: 'Success',
    StatusDetails: 'Success',
    StandardOutputUrl: url,
    CommandPlugins: [
      {
        Name: 'aws:runShellScript',
        Status: 'Success',
        ResponseCode: 0,
        ResponseStartDateTime: new Date('2025-01-01T00:00:01Z'),
        ResponseFinishDateTime: ENDED,
        Output: output,
        StandardOutputUrl: url,
      },
    ],
  };
}

const HEAD = 'BEGIN identity boundary=7f3a\n';
const CUT = `${HEAD}${'x'.repeat(2_400)}\n---Output truncated---`;

async function collect(r: SsmFleetRunner, instanceIds: string[]): Promise<Invocation[]> {
  const got: Invocation[] = [];
  await r.runDiagnostics(
    instanceIds.map((InstanceId) => ({ InstanceId, PingStatus: 'Online' })),
    async (inv) => void got.push(inv),
  );
  return got;
}

beforeEach(() => {
  ssm.reset();
  s3.reset();
  ssm.on(SendCommandCommand).resolves({ Command: { CommandId: COMMAND, RequestedDateTime: new Date('2025-01-01T00:00:00Z') } });
  ssm.on(ListCommandsCommand).resolves({ Commands: [] });
});

describe('SsmFleetRunner output reads', () => {
  it('does not read an object whose ContentLength is over the limit, and records an ERROR naming the size', async () => {
    const [id] = ids(1);
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [success(id!, CUT)] });
    let read = false;
    const body = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    s3.on(GetObjectCommand).resolves({ ContentLength: 600_000_000, Body: body as never });
    const [got] = await collect(runner([id!]), [id!]);
    expect(read).toBe(false);
    expect(got).toMatchObject({ Status: 'Success', StandardOutputContent: '' });
    expect(got!.FleetAuditCollectionError).toMatch(/is 600,000,000 bytes, over the collector's limit of 4,194,304 bytes/);
    const [finding] = collect01.evaluate({ vms: [{ instanceId: id!, invocation: got, snapshot: undefined }] } as never);
    expect(finding).toMatchObject({ status: 'ERROR' });
    expect(JSON.stringify(finding)).toContain('600,000,000 bytes');
  });

  it('stops reading a body without a length at the limit', async () => {
    const [id] = ids(1);
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [success(id!, CUT)] });
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        this.push(pulled === 1 ? Buffer.from(HEAD) : chunk);
      },
    });
    s3.on(GetObjectCommand).resolves({ Body: endless as never });
    const [got] = await collect(runner([id!]), [id!]);
    expect(pulled).toBeLessThan(MAX_VM_OUTPUT_BYTES / chunk.length + 4);
    expect(got!.FleetAuditCollectionError).toMatch(/more than 4,194,304 bytes/);
    expect(got!.StandardOutputContent).toBe('');
  });

  it('keeps an object that starts with the output SSM returned, and refuses one that does not', async () => {
    const [good, forged] = ids(2);
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [success(good!, CUT), success(forged!, CUT)] });
    const whole = `${HEAD}${'x'.repeat(30_000)}\nEND\n`;
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
      Body: Readable.from([Buffer.from(input.Key.includes(forged!) ? `BEGIN identity boundary=0000\n${'x'.repeat(30_000)}` : whole)]),
    }));
    const got = await collect(runner([good!, forged!]), [good!, forged!]);
    const byId = new Map(got.map((g) => [g.InstanceId, g]));
    expect(byId.get(good!)).toMatchObject({ StandardOutputContent: whole });
    expect(byId.get(good!)!.FleetAuditCollectionError).toBeUndefined();
    expect(byId.get(forged!)).toMatchObject({ Status: 'Success', StandardOutputContent: '' });
    expect(byId.get(forged!)!.FleetAuditCollectionError).toMatch(
      /does not start with the \d+ characters SSM returned .*may have been tampered with/,
    );
  });

  it('waits for a late object up to outputWaitMs after the invocation ended, then uses the API copy', async () => {
    const [id] = ids(1);
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [success(id!, CUT)] });
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Success',
      StatusDetails: 'Success',
      ResponseCode: 0,
      StandardOutputContent: `${HEAD}api copy`,
      StandardErrorContent: '',
    });
    const time = clock();
    const startedAt = time.options.now!();
    const [got] = await collect(runner([id!], { outputWaitMs: 30_000, outputRetry: { initialDelayMs: 500 } }, time), [id!]);
    expect(got!.StandardOutputContent).toBe(`${HEAD}api copy`);
    const waited = time.options.now!() - startedAt;
    // From the invocation's end (1 s before the clock started), bounded by the wait, polls included.
    expect(waited).toBeGreaterThanOrEqual(29_000 - 1);
    expect(waited).toBeLessThan(29_000 + 5_000);
    expect(s3.commandCalls(GetObjectCommand).length).toBeGreaterThan(5);
  });
});

describe('SsmFleetRunner polling', () => {
  it('lists a 200-VM command by tag only when half a listing has ended or the command is terminal', async () => {
    const fleet = ids(200);
    let completed = 0;
    ssm.on(ListCommandsCommand).callsFake(() => {
      completed = Math.min(200, completed + 40);
      return {
        Commands: [
          { CommandId: COMMAND, Status: completed === 200 ? 'Success' : 'InProgress', TargetCount: 200, CompletedCount: completed },
        ],
      };
    });
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => {
      const start = input.NextToken ? Number(input.NextToken) : 0;
      const page = fleet
        .slice(start, start + 50)
        .map((id, i) =>
          start + i < completed
            ? success(id, 'short\n')
            : { CommandId: COMMAND, InstanceId: id, Status: 'InProgress' as const, StatusDetails: 'InProgress' },
        );
      return { CommandInvocations: page, ...(start + 50 < fleet.length ? { NextToken: String(start + 50) } : {}) };
    });
    const r = new SsmFleetRunner({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      bucket: 'evidence',
      documentName: 'FleetAudit-Diagnostics',
      target: { kind: 'tag', key: 'istio-fleet' },
      poll: { initialDelayMs: 1000, maxDelayMs: 1000 },
      ...clock().options,
    });
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolves({ InstanceInformationList: fleet.map((InstanceId) => ({ InstanceId, PingStatus: 'Online' })) });
    const inventory = await r.listInstances();
    const got: Invocation[] = [];
    await r.runDiagnostics(inventory.InstanceInformationList, async (inv) => void got.push(inv));
    expect(new Set(got.map((g) => g.InstanceId)).size).toBe(200);
    expect(got.every((g) => g.Status === 'Success')).toBe(true);
    // 5 rounds of counts; listed at 120 (≥ 100 new) and at the terminal 200: 2 listings of 4 pages, not 5.
    expect(ssm.commandCalls(ListCommandsCommand)).toHaveLength(5);
    expect(ssm.commandCalls(ListCommandInvocationsCommand)).toHaveLength(8);
  });
});
