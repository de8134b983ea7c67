import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  InvalidInstanceId,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  ListTagsForResourceCommand,
  SendCommandCommand,
  SSMClient,
  SSMServiceException,
  type CommandInvocation,
  type ListCommandInvocationsCommandInput,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  parseS3Url,
  splitDetailsOutput,
  SsmCallError,
  SsmFleetRunner,
  type SsmFleetRunnerOptions,
} from '../../lib/adapters/ssm-fleet-runner.ts';
import type { InstanceInformation, Invocation } from '../../lib/core/evidence-bundle.ts';

const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);

afterAll(() => {
  ssm.restore();
  s3.restore();
});

beforeEach(() => {
  ssm.reset();
  s3.reset();
});

const BUCKET = 'evidence';
const PREFIX = 'runs/r1/ssm-output';

function ids(n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `i-${(from + i).toString(16).padStart(17, '0')}`);
}

function nodes(instanceIds: string[]): InstanceInformation[] {
  return instanceIds.map((InstanceId) => ({ InstanceId, PingStatus: 'Online' }));
}

/** A fake clock driven by the runner's own sleeps, so waiting costs nothing. */
function fakeTime(): { sleeps: number[]; options: Pick<SsmFleetRunnerOptions, 'sleep' | 'now' | 'random'> } {
  let now = 1_700_000_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    options: {
      now: () => now,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    },
  };
}

function runner(overrides: Partial<SsmFleetRunnerOptions> = {}, time = fakeTime()): SsmFleetRunner {
  return new SsmFleetRunner({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    bucket: BUCKET,
    keyPrefix: PREFIX,
    documentName: 'FleetAudit-Diagnostics',
    comment: 'fleet-audit run r1',
    target: { kind: 'tag', key: 'istio-fleet', values: ['payments'] },
    poll: { initialDelayMs: 1000, maxDelayMs: 5000 },
    ...time.options,
    ...overrides,
  });
}

function stdoutUrl(commandId: string, instanceId: string, stream = 'stdout'): string {
  return `https://s3.eu-west-1.amazonaws.com/${BUCKET}/${PREFIX}/${commandId}/${instanceId}/awsrunShellScript/0.awsrunShellScript/${stream}`;
}

interface Outcome {
  status: string;
  details: string;
  responseCode?: number;
  output?: string;
}

function listed(commandId: string, instanceId: string, outcome: Outcome): CommandInvocation {
  const ran = outcome.responseCode !== undefined && outcome.responseCode !== -1;
  return {
    CommandId: commandId,
    InstanceId: instanceId,
    DocumentName: 'FleetAudit-Diagnostics',
    Status: outcome.status as CommandInvocation['Status'],
    StatusDetails: outcome.details,
    StandardOutputUrl: stdoutUrl(commandId, instanceId),
    StandardErrorUrl: stdoutUrl(commandId, instanceId, 'stderr'),
    CommandPlugins: [
      {
        Name: 'aws:runShellScript',
        Status: outcome.status as NonNullable<CommandInvocation['CommandPlugins']>[number]['Status'],
        StatusDetails: outcome.details,
        ResponseCode: outcome.responseCode ?? -1,
        ResponseStartDateTime: ran ? new Date('2025-01-01T00:00:01Z') : undefined,
        ResponseFinishDateTime: ran ? new Date('2025-01-01T00:00:05Z') : undefined,
        Output: outcome.output ?? '',
        StandardOutputUrl: stdoutUrl(commandId, instanceId),
        StandardErrorUrl: stdoutUrl(commandId, instanceId, 'stderr'),
      },
    ],
  };
}

/** Answers SendCommand with cmd-1, cmd-2, … and remembers which ids each command got. */
function acceptCommands(): Map<string, string[]> {
  const sent = new Map<string, string[]>();
  ssm.on(SendCommandCommand).callsFake((input: SendCommandCommandInput) => {
    const commandId = `00000000-0000-4000-8000-${String(sent.size + 1).padStart(12, '0')}`;
    sent.set(commandId, input.InstanceIds ?? []);
    return { Command: { CommandId: commandId, RequestedDateTime: new Date('2025-01-01T00:00:00Z'), InstanceIds: input.InstanceIds } };
  });
  return sent;
}

/** ListCommands that always reports progress, so every round lists invocations. */
function listCommandsInProgress(): void {
  ssm.on(ListCommandsCommand).resolves({ Commands: [] });
}

let sentByCommand = new Map<string, string[]>();
function sentIds(commandId: string): string[] {
  return sentByCommand.get(commandId) ?? [];
}

/** An S3 body as the SDK hands it over; the runner only reads it as text. */
function body(text: string): never {
  return { transformToString: async () => text } as never;
}

const SUCCESS: Outcome = { status: 'Success', details: 'Success', responseCode: 0, output: 'short output\n' };

async function collectAll(r: SsmFleetRunner, instances: InstanceInformation[]): Promise<Invocation[]> {
  const out: Invocation[] = [];
  await r.runDiagnostics(instances, async (inv) => {
    out.push(inv);
  });
  return out;
}

describe('SsmFleetRunner inventory', () => {
  it('reads every page of DescribeInstanceInformation with the tag filter, offline nodes included', async () => {
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce({
        InstanceInformationList: [
          { InstanceId: 'i-00000000000000001', PingStatus: 'Online', LastPingDateTime: new Date('2025-01-01T00:00:00Z') },
          { InstanceId: 'mi-00000000000000002', PingStatus: 'ConnectionLost' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: 'i-00000000000000003', PingStatus: 'Inactive' }] });
    const inventory = await runner().listInstances();
    const calls = ssm.commandCalls(DescribeInstanceInformationCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Key: 'tag:istio-fleet', Values: ['payments'] }], MaxResults: 50, NextToken: undefined },
      { Filters: [{ Key: 'tag:istio-fleet', Values: ['payments'] }], MaxResults: 50, NextToken: 'page-2' },
    ]);
    expect(inventory.InstanceInformationList.map((i) => [i.InstanceId, i.PingStatus])).toEqual([
      ['i-00000000000000001', 'Online'],
      ['mi-00000000000000002', 'ConnectionLost'],
      ['i-00000000000000003', 'Inactive'],
    ]);
    expect(inventory.InstanceInformationList[0]!.LastPingDateTime).toBe('2025-01-01T00:00:00.000Z');
    expect(inventory.InstanceInformationList[0]!.Tags).toEqual([{ Key: 'istio-fleet', Value: 'payments' }]);
  });

  it('uses tag-key when the target names no value, and lists tags of hybrid nodes only when asked', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [{ InstanceId: 'i-00000000000000001' }, { InstanceId: 'mi-00000000000000002' }],
    });
    ssm.on(ListTagsForResourceCommand).resolves({
      TagList: [
        { Key: 'istio-fleet', Value: 'ledger' },
        { Key: 'site', Value: 'dc1' },
      ],
    });
    const inventory = await runner({ target: { kind: 'tag', key: 'istio-fleet' }, listTags: true }).listInstances();
    expect(ssm.commandCalls(DescribeInstanceInformationCommand)[0]!.args[0].input.Filters).toEqual([
      { Key: 'tag-key', Values: ['istio-fleet'] },
    ]);
    expect(ssm.commandCalls(ListTagsForResourceCommand).map((c) => c.args[0].input)).toEqual([
      { ResourceType: 'ManagedInstance', ResourceId: 'mi-00000000000000002' },
    ]);
    expect(inventory.InstanceInformationList[0]!.Tags).toBeUndefined();
    expect(inventory.InstanceInformationList[1]!.Tags).toEqual([
      { Key: 'istio-fleet', Value: 'ledger' },
      { Key: 'site', Value: 'dc1' },
    ]);
  });

  it('asks for explicit ids in chunks of 50 and records ids SSM does not manage without sending to them', async () => {
    const wanted = ids(60);
    const unmanaged = wanted[55]!;
    ssm.on(DescribeInstanceInformationCommand).callsFake((input: { Filters: Array<{ Values: string[] }> }) => ({
      InstanceInformationList: input.Filters[0]!.Values.filter((id) => id !== unmanaged).map((InstanceId) => ({
        InstanceId,
        PingStatus: 'Online',
      })),
    }));
    sentByCommand = acceptCommands();
    listCommandsInProgress();
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => ({
      CommandInvocations: sentIds(input.CommandId!).map((id) => listed(input.CommandId!, id, SUCCESS)),
    }));
    const r = runner({ target: { kind: 'instanceIds', instanceIds: wanted } });
    const inventory = await r.listInstances();
    expect(ssm.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input.Filters![0]!.Values!.length)).toEqual([50, 10]);
    expect(inventory.InstanceInformationList).toHaveLength(59);
    const got = await collectAll(r, inventory.InstanceInformationList);
    expect(got).toHaveLength(60);
    expect(new Set(got.map((g) => g.InstanceId)).size).toBe(60);
    const absent = got.find((g) => g.InstanceId === unmanaged)!;
    expect(absent).toMatchObject({ Status: 'Failed', StatusDetails: 'Undeliverable', ResponseCode: -1 });
    expect(absent.StandardErrorContent).toMatch(/DescribeInstanceInformation does not list this node/);
    expect(absent.CommandId).toBeUndefined();
    expect(ssm.commandCalls(SendCommandCommand).flatMap((c) => c.args[0].input.InstanceIds)).not.toContain(unmanaged);
  });

  it('asks id by id when DescribeInstanceInformation refuses a chunk for an unknown id', async () => {
    const wanted = ids(3);
    ssm.on(DescribeInstanceInformationCommand).callsFake((input: { Filters: Array<{ Values: string[] }> }) => {
      const values = input.Filters[0]!.Values;
      if (values.includes(wanted[1]!)) throw new InvalidInstanceId({ message: 'Instance is not managed', $metadata: {} });
      return { InstanceInformationList: values.map((InstanceId) => ({ InstanceId })) };
    });
    const inventory = await runner({ target: { kind: 'instanceIds', instanceIds: wanted } }).listInstances();
    expect(inventory.InstanceInformationList.map((i) => i.InstanceId)).toEqual([wanted[0], wanted[2]]);
    expect(ssm.commandCalls(DescribeInstanceInformationCommand)).toHaveLength(4);
  });
});

describe('SsmFleetRunner sending', () => {
  beforeEach(() => {
    sentByCommand = acceptCommands();
    listCommandsInProgress();
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => ({
      CommandInvocations: sentIds(input.CommandId!).map((id) => listed(input.CommandId!, id, SUCCESS)),
    }));
  });

  it('sends 51 instances in two SendCommand calls with MaxErrors 100% and the output in the run prefix', async () => {
    const r = runner({
      target: { kind: 'instanceIds', instanceIds: ids(51) },
      comment: `fleet-audit run ${'x'.repeat(200)}`,
      executionTimeoutSeconds: 300,
      deliveryTimeoutSeconds: 900,
      maxConcurrency: '25%',
    });
    const got = await collectAll(r, nodes(ids(51)));
    const calls = ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.InstanceIds!.length)).toEqual([50, 1]);
    expect(calls[0]).toMatchObject({
      DocumentName: 'FleetAudit-Diagnostics',
      MaxErrors: '100%',
      MaxConcurrency: '25%',
      TimeoutSeconds: 900,
      Parameters: { executionTimeout: ['300'] },
      OutputS3BucketName: BUCKET,
      OutputS3KeyPrefix: PREFIX,
    });
    expect(calls[0]!.Comment).toHaveLength(100);
    expect(calls[0]!.Targets).toBeUndefined();
    expect(got).toHaveLength(51);
    expect(got.every((g) => g.Status === 'Success' && g.StandardOutputContent === 'short output\n')).toBe(true);
    // One listing per command and round, one page each: never more calls than commands in a round.
    expect(ssm.commandCalls(ListCommandInvocationsCommand).length).toBe(2);
    expect(ssm.commandCalls(ListCommandInvocationsCommand)[0]!.args[0].input).toMatchObject({ Details: true, MaxResults: 50 });
  });

  it('targets the tag with one SendCommand when it audits the whole inventory', async () => {
    const fleet = ids(120);
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolves({ InstanceInformationList: fleet.map((InstanceId) => ({ InstanceId, PingStatus: 'Online' })) });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'c0000000-0000-4000-8000-000000000001', RequestedDateTime: new Date() } });
    ssm.on(ListCommandsCommand).resolves({
      Commands: [{ CommandId: 'c0000000-0000-4000-8000-000000000001', Status: 'Success', TargetCount: 120, CompletedCount: 120 }],
    });
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => {
      const offset = input.NextToken ? Number(input.NextToken) : 0;
      const page = fleet.slice(offset, offset + 50).map((id) => listed(input.CommandId!, id, SUCCESS));
      return { CommandInvocations: page, NextToken: offset + 50 < fleet.length ? String(offset + 50) : undefined };
    });
    const r = runner();
    const inventory = await r.listInstances();
    const got = await collectAll(r, inventory.InstanceInformationList);
    const send = ssm.commandCalls(SendCommandCommand);
    expect(send).toHaveLength(1);
    expect(send[0]!.args[0].input.Targets).toEqual([{ Key: 'tag:istio-fleet', Values: ['payments'] }]);
    expect(send[0]!.args[0].input.InstanceIds).toBeUndefined();
    expect(ssm.commandCalls(ListCommandInvocationsCommand)).toHaveLength(3);
    expect(got).toHaveLength(120);
  });

  it('halves a chunk SendCommand refuses for one node and records that node as not sent', async () => {
    const chunk = ids(8);
    const bad = chunk[5]!;
    ssm.on(SendCommandCommand).callsFake((input: SendCommandCommandInput) => {
      if (input.InstanceIds!.includes(bad))
        throw new InvalidInstanceId({ message: `Instances [[${bad}]] not in a valid state`, $metadata: {} });
      const commandId = `00000000-0000-4000-8000-${String(sentByCommand.size + 1).padStart(12, '0')}`;
      sentByCommand.set(commandId, input.InstanceIds!);
      return { Command: { CommandId: commandId, RequestedDateTime: new Date() } };
    });
    const got = await collectAll(runner({ target: { kind: 'instanceIds', instanceIds: chunk } }), nodes(chunk));
    expect(got).toHaveLength(8);
    const rejected = got.find((g) => g.InstanceId === bad)!;
    expect(rejected).toMatchObject({ Status: 'Failed', StatusDetails: 'Undeliverable' });
    expect(rejected.StandardErrorContent).toMatch(/SendCommand rejected this node: SendCommand failed: InvalidInstanceId/);
    expect(got.filter((g) => g.Status === 'Success')).toHaveLength(7);
  });

  it('stops the run with an error naming the call and the AWS error code', async () => {
    ssm.on(SendCommandCommand).rejects(
      new SSMServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'not authorized to perform ssm:SendCommand',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const r = runner({ target: { kind: 'instanceIds', instanceIds: ids(2) } });
    const failure = await collectAll(r, nodes(ids(2))).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(SsmCallError);
    expect(String(failure)).toMatch(/^SsmCallError: SendCommand failed: AccessDeniedException: not authorized/);
    expect((failure as SsmCallError).code).toBe('AccessDeniedException');
  });
});

describe('SsmFleetRunner waiting and collecting', () => {
  beforeEach(() => {
    sentByCommand = acceptCommands();
    listCommandsInProgress();
  });

  it('retries a throttled call with backoff and carries on', async () => {
    const time = fakeTime();
    ssm
      .on(ListCommandInvocationsCommand)
      .rejectsOnce(
        new SSMServiceException({
          name: 'ThrottlingException',
          $fault: 'client',
          message: 'Rate exceeded',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .callsFake((input: ListCommandInvocationsCommandInput) => ({
        CommandInvocations: sentIds(input.CommandId!).map((id) => listed(input.CommandId!, id, SUCCESS)),
      }));
    const got = await collectAll(
      runner({ target: { kind: 'instanceIds', instanceIds: ids(3) }, apiRetry: { initialDelayMs: 300 } }, time),
      nodes(ids(3)),
    );
    expect(got.map((g) => g.Status)).toEqual(['Success', 'Success', 'Success']);
    expect(ssm.commandCalls(ListCommandInvocationsCommand)).toHaveLength(2);
    // The poll wait, then the throttling backoff (300 ms with jitter of at most half).
    expect(time.sleeps[1]).toBeGreaterThanOrEqual(150);
    expect(time.sleeps[1]).toBeLessThanOrEqual(300);
  });

  it('gives up on a call that stays throttled with an SsmCallError', async () => {
    ssm.on(ListCommandInvocationsCommand).rejects(
      new SSMServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const failure = await collectAll(
      runner({ target: { kind: 'instanceIds', instanceIds: ids(1) }, apiRetry: { attempts: 3 } }),
      nodes(ids(1)),
    ).catch((err: unknown) => err);
    expect(String(failure)).toMatch(/SsmCallError: ListCommandInvocations failed: ThrottlingException: Rate exceeded \(command /);
    expect(ssm.commandCalls(ListCommandInvocationsCommand)).toHaveLength(3);
  });

  it('treats an empty listing right after SendCommand as not yet, and polls again with growing waits', async () => {
    const time = fakeTime();
    let round = 0;
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => {
      round++;
      const ids = sentIds(input.CommandId!);
      if (round === 1) return { CommandInvocations: [] };
      if (round === 2)
        return { CommandInvocations: ids.map((id) => listed(input.CommandId!, id, { status: 'InProgress', details: 'InProgress' })) };
      return { CommandInvocations: ids.map((id) => listed(input.CommandId!, id, SUCCESS)) };
    });
    const got = await collectAll(runner({ target: { kind: 'instanceIds', instanceIds: ids(2) } }, time), nodes(ids(2)));
    expect(got.map((g) => g.StatusDetails)).toEqual(['Success', 'Success']);
    expect(time.sleeps).toHaveLength(3);
    expect(time.sleeps[1]!).toBeGreaterThan(time.sleeps[0]!);
  });

  it.each([
    ['Failed', 'Undeliverable', -1],
    ['TimedOut', 'DeliveryTimedOut', -1],
    ['TimedOut', 'ExecutionTimedOut', 137],
    ['Failed', 'Failed', 2],
    ['Failed', 'AccessDenied', -1],
    ['Failed', 'InvalidPlatform', -1],
    ['Failed', 'Terminated', -1],
    ['Cancelled', 'Cancelled', -1],
  ])('records %s / %s exactly as SSM reports it', async (status, details, responseCode) => {
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => ({
      CommandInvocations: sentIds(input.CommandId!).map((id) =>
        listed(input.CommandId!, id, {
          status,
          details,
          responseCode,
          output: responseCode === -1 ? '' : 'partial\n----------ERROR-------\nkilled\n',
        }),
      ),
    }));
    const [got] = await collectAll(runner({ target: { kind: 'instanceIds', instanceIds: ids(1) } }), nodes(ids(1)));
    expect(got).toMatchObject({ InstanceId: ids(1)[0], Status: status, StatusDetails: details, ResponseCode: responseCode });
    if (responseCode === -1) {
      expect(got!.StandardOutputContent).toBe('');
      expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    } else {
      expect(got!.StandardOutputContent).toBe('partial');
      expect(got!.StandardErrorContent).toBe('killed\n');
    }
  });

  it('reads a cut output from S3, retrying NoSuchKey until the object appears', async () => {
    const time = fakeTime();
    const full = `${'x'.repeat(30_000)}\nDONE\n`;
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => ({
      CommandInvocations: sentIds(input.CommandId!).map((id) =>
        listed(input.CommandId!, id, { ...SUCCESS, output: `${'x'.repeat(2_477)}\n---Output truncated---` }),
      ),
    }));
    s3.on(GetObjectCommand)
      .rejectsOnce(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }))
      .rejectsOnce(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }))
      .resolves({ Body: body(full) });
    const [got] = await collectAll(
      runner({ target: { kind: 'instanceIds', instanceIds: ids(1) }, outputRetry: { initialDelayMs: 200 } }, time),
      nodes(ids(1)),
    );
    expect(got!.StandardOutputContent).toBe(full);
    const gets = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input);
    expect(gets).toHaveLength(3);
    const commandId = [...sentByCommand.keys()][0]!;
    // The key comes from the StandardOutputUrl SSM reported.
    expect(gets[0]).toEqual({ Bucket: BUCKET, Key: `${PREFIX}/${commandId}/${ids(1)[0]}/awsrunShellScript/0.awsrunShellScript/stdout` });
    expect(ssm.commandCalls(GetCommandInvocationCommand)).toHaveLength(0);
  });

  it('finds the object under the command prefix when SSM gives no URL', async () => {
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => ({
      CommandInvocations: sentIds(input.CommandId!).map((id) => {
        // SSM's copy is the start of the object: the collector checks that the object begins with it.
        const item = listed(input.CommandId!, id, { ...SUCCESS, output: 'who\n---Output truncated---' });
        return { ...item, StandardOutputUrl: '', CommandPlugins: item.CommandPlugins!.map((p) => ({ ...p, StandardOutputUrl: '' })) };
      }),
    }));
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: [{ Key: `${input.Prefix}awsrunShellScript/main/stdout` }],
    }));
    s3.on(GetObjectCommand).resolves({ Body: body('whole') });
    const [got] = await collectAll(runner({ target: { kind: 'instanceIds', instanceIds: ids(1) } }), nodes(ids(1)));
    expect(got!.StandardOutputContent).toBe('whole');
    const commandId = [...sentByCommand.keys()][0]!;
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({
      Bucket: BUCKET,
      Prefix: `${PREFIX}/${commandId}/${ids(1)[0]}/`,
    });
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input.Key).toBe(
      `${PREFIX}/${commandId}/${ids(1)[0]}/awsrunShellScript/main/stdout`,
    );
  });

  it('falls back to the API copy when the object never appears', async () => {
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => ({
      CommandInvocations: sentIds(input.CommandId!).map((id) =>
        listed(input.CommandId!, id, { ...SUCCESS, output: `${'z'.repeat(2_477)}\n---Output truncated---` }),
      ),
    }));
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    const apiCopy = `${'z'.repeat(23_980)}--output truncated--`;
    ssm
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', StatusDetails: 'Success', ResponseCode: 0, StandardOutputContent: apiCopy, StandardErrorContent: '' });
    const [got] = await collectAll(
      runner({ target: { kind: 'instanceIds', instanceIds: ids(1) }, outputRetry: { attempts: 3 } }),
      nodes(ids(1)),
    );
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(3);
    expect(got!.StandardOutputContent).toBe(apiCopy);
  });

  it('without a bucket keeps the cut API copy and treats InvocationDoesNotExist as not yet', async () => {
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => ({
      CommandInvocations: sentIds(input.CommandId!).map((id) => ({
        ...listed(input.CommandId!, id, SUCCESS),
        CommandPlugins: [],
        StandardOutputUrl: '',
      })),
    }));
    const apiCopy = `${'a'.repeat(23_980)}--output truncated--`;
    ssm
      .on(GetCommandInvocationCommand)
      .rejectsOnce(new InvocationDoesNotExist({ message: '', $metadata: { httpStatusCode: 400 } }))
      .resolves({
        Status: 'Success',
        StatusDetails: 'Success',
        ResponseCode: 0,
        ExecutionStartDateTime: '2025-01-01T00:00:01.000Z',
        ExecutionEndDateTime: '',
        StandardOutputContent: apiCopy,
        StandardErrorContent: '',
      });
    const r = runner({ bucket: undefined, keyPrefix: undefined, target: { kind: 'instanceIds', instanceIds: ids(1) } });
    const [got] = await collectAll(r, nodes(ids(1)));
    expect(ssm.commandCalls(SendCommandCommand)[0]!.args[0].input.OutputS3BucketName).toBeUndefined();
    expect(ssm.commandCalls(ListCommandInvocationsCommand)[0]!.args[0].input.Details).toBe(false);
    expect(ssm.commandCalls(GetCommandInvocationCommand)).toHaveLength(2);
    expect(got).toMatchObject({
      Status: 'Success',
      ResponseCode: 0,
      StandardOutputContent: apiCopy,
      ExecutionStartDateTime: '2025-01-01T00:00:01.000Z',
    });
    expect(got!.ExecutionEndDateTime).toBeUndefined();
  });

  it('after the wait ends hands over what is still running with its last status', async () => {
    const time = fakeTime();
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => ({
      CommandInvocations: sentIds(input.CommandId!).map((id, i) =>
        listed(input.CommandId!, id, i === 0 ? SUCCESS : { status: 'Delayed', details: 'Delayed' }),
      ),
    }));
    const got = await collectAll(
      runner({ target: { kind: 'instanceIds', instanceIds: ids(2) }, waitTimeoutMs: 10_000 }, time),
      nodes(ids(2)),
    );
    expect(got.map((g) => [g.Status, g.StatusDetails])).toEqual([
      ['Success', 'Success'],
      ['Delayed', 'Delayed'],
    ]);
    expect(got[1]!.StandardErrorContent).toMatch(/wait for this invocation ended while it was Delayed/);
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_000);
  });

  it('skips listing a command whose completed count has not moved', async () => {
    ssm.on(ListCommandsCommand).callsFake(() => ({
      Commands: [...sentByCommand.keys()].map((CommandId) => ({ CommandId, Status: 'InProgress', TargetCount: 1, CompletedCount: 0 })),
    }));
    ssm.on(ListCommandInvocationsCommand).callsFake((input: ListCommandInvocationsCommandInput) => ({
      CommandInvocations: sentIds(input.CommandId!).map((id) =>
        listed(input.CommandId!, id, { status: 'InProgress', details: 'InProgress' }),
      ),
    }));
    const got = await collectAll(runner({ target: { kind: 'instanceIds', instanceIds: ids(1) }, waitTimeoutMs: 30_000 }), nodes(ids(1)));
    expect(ssm.commandCalls(ListCommandsCommand).length).toBeGreaterThan(1);
    // Only the final look after the wait lists the invocations.
    expect(ssm.commandCalls(ListCommandInvocationsCommand)).toHaveLength(1);
    expect(got[0]).toMatchObject({ Status: 'InProgress' });
  });

  it('collect() hands over the terminal invocations of given commands, skipping those already stored', async () => {
    const commandId = 'c0000000-0000-4000-8000-000000000009';
    const fleet = ids(3);
    ssm.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [
        listed(commandId, fleet[0]!, SUCCESS),
        listed(commandId, fleet[1]!, SUCCESS),
        listed(commandId, fleet[2]!, { status: 'InProgress', details: 'InProgress' }),
      ],
    });
    const got: Invocation[] = [];
    const result = await runner().collect(
      [commandId],
      async (inv) => {
        got.push(inv);
      },
      { skip: new Set([fleet[0]!]) },
    );
    expect(got.map((g) => g.InstanceId)).toEqual([fleet[1]]);
    expect(result).toEqual({
      collected: [fleet[1]],
      pending: [{ commandId, instanceId: fleet[2], status: 'InProgress', statusDetails: 'InProgress' }],
    });
  });
});

describe('parseS3Url', () => {
  it.each([
    ['https://s3.eu-west-1.amazonaws.com/evidence/runs/r1/a/stdout', { bucket: 'evidence', key: 'runs/r1/a/stdout' }],
    ['https://s3.amazonaws.com/evidence/a%20b/stdout', { bucket: 'evidence', key: 'a b/stdout' }],
    ['https://evidence.s3.eu-west-1.amazonaws.com/runs/a/stdout', { bucket: 'evidence', key: 'runs/a/stdout' }],
    ['https://my.bucket.s3.amazonaws.com/k/stdout', { bucket: 'my.bucket', key: 'k/stdout' }],
    ['http://127.0.0.1:4568/evidence/k/stdout', { bucket: 'evidence', key: 'k/stdout' }],
    ['', undefined],
    ['https://s3.amazonaws.com/evidence/', undefined],
  ])('%s', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });
});

describe('splitDetailsOutput', () => {
  it('takes a short copy with no stderr as complete', () => {
    expect(splitDetailsOutput('out\n')).toEqual({ stdout: 'out\n', stdoutComplete: true, stderr: '', stderrComplete: true });
  });
  it('splits stdout from stderr at the agent separator', () => {
    expect(splitDetailsOutput('out\n----------ERROR-------\nerr')).toEqual({
      stdout: 'out',
      stdoutComplete: true,
      stderr: 'err',
      stderrComplete: true,
    });
  });
  it('knows a cut stdout and a cut stderr', () => {
    const cut = splitDetailsOutput(
      `${'o'.repeat(1200)}\n---Output truncated---\n----------ERROR-------\n${'e'.repeat(1200)}\n---Error truncated----`,
    );
    expect(cut.stdoutComplete).toBe(false);
    expect(cut.stderrComplete).toBe(false);
  });
  it('trusts nothing near the limit or when stdout printed the separator itself', () => {
    expect(splitDetailsOutput('x'.repeat(2_450)).stdoutComplete).toBe(false);
    const twice = splitDetailsOutput('a\n----------ERROR-------\nb\n----------ERROR-------\nc');
    expect(twice.stdoutComplete || twice.stderrComplete).toBe(false);
  });
});
