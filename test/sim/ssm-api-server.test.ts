import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitDiagnosticOutput } from '../../lib/core/diagnostic-output.ts';
import { buildSimFleet, type SimFleet } from '../../sim/fleet.ts';
import { startSimEndpoints, type SimEndpoints } from '../../sim/sim-endpoints.ts';
import { API_STDOUT_LIMIT, cutApiCopy, detailsOutput, type SimSsmOutcome } from '../../sim/ssm-api-server.ts';

const AUTH = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/ssm/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'a'.repeat(64)}`;
const PADDING = 'p'.repeat(30_000);

let fleet: SimFleet;
let sim: SimEndpoints;
let big: string;
const forced: Record<string, SimSsmOutcome> = {};
const OUTCOMES: SimSsmOutcome[] = [
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Failed',
  'AccessDenied',
  'InvalidPlatform',
  'Terminated',
  'Cancelled',
  'Undeliverable',
];

beforeAll(async () => {
  fleet = buildSimFleet({ vms: 60, seed: 7, now: new Date('2025-03-01T12:00:00Z') });
  const healthy = fleet.vms.filter((vm) => vm.faults.length === 0);
  big = healthy[0]!.instanceId;
  OUTCOMES.forEach((outcome, i) => {
    forced[healthy[i + 1]!.instanceId] = outcome;
  });
  sim = await startSimEndpoints({
    fleet,
    outcomes: forced,
    renderOutput: (vm, rendered) => (vm.instanceId === big ? rendered.replace('BEGIN logs\n', `BEGIN logs\n${PADDING}\n`) : rendered),
    throttle: { everyNth: 20, operations: ['ListCommands'] },
    hiddenLookups: 2,
  });
});

afterAll(async () => {
  await sim?.close();
});

async function call(
  op: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(sim.ssmEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonSSM.${op}`,
      authorization: AUTH,
      'x-amz-date': '20250101T000000Z',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function send(body: Record<string, unknown>): Promise<string> {
  const { status, json } = await call('SendCommand', { DocumentName: 'FleetAudit-Diagnostics', ...body });
  expect(status).toBe(200);
  return (json.Command as { CommandId: string }).CommandId;
}

async function terminalInvocations(commandId: string, count: number): Promise<Array<Record<string, unknown>>> {
  return until(async () => {
    const { json } = await call('ListCommandInvocations', { CommandId: commandId, Details: true, MaxResults: 50 });
    const items = json.CommandInvocations as Array<Record<string, unknown>>;
    return items.length === count && items.every((i) => ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(i.Status as string))
      ? items
      : undefined;
  }, `the invocations of ${commandId}`);
}

describe('the SSM JSON 1.1 endpoint', () => {
  it('insists on a well-formed SigV4 Authorization header', async () => {
    expect(await call('ListCommands', {}, { authorization: '' })).toEqual({
      status: 403,
      json: { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' },
    });
    const bad = await call('ListCommands', {}, { authorization: 'AWS4-HMAC-SHA256 Credential=AKID' });
    expect(bad.status).toBe(400);
    expect(bad.json.__type).toBe('IncompleteSignatureException');
  });

  it('answers an unknown operation, a wrong content type and a bad body the way AWS does', async () => {
    expect((await call('RunEverything', {})).json.__type).toBe('UnknownOperationException');
    expect((await call('ListCommands', {}, { 'content-type': 'application/json' })).json.__type).toBe('SerializationException');
    const res = await fetch(sim.ssmEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.ListCommands',
        authorization: AUTH,
        'x-amz-date': '20250101T000000Z',
      },
      body: '{',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toBe('SerializationException');
  });
});

describe('DescribeInstanceInformation', () => {
  it('pages the fleet with an opaque NextToken and returns no tags', async () => {
    const first = await call('DescribeInstanceInformation', { MaxResults: 50 });
    const items = first.json.InstanceInformationList as Array<Record<string, unknown>>;
    expect(items).toHaveLength(50);
    expect(items[0]).not.toHaveProperty('Tags');
    expect(typeof items[0]!.LastPingDateTime).toBe('number');
    const second = await call('DescribeInstanceInformation', { MaxResults: 50, NextToken: first.json.NextToken });
    expect(second.json.InstanceInformationList).toHaveLength(10);
    expect(second.json.NextToken).toBeUndefined();
    const ids = [...items, ...(second.json.InstanceInformationList as typeof items)].map((i) => i.InstanceId);
    expect(new Set(ids)).toEqual(new Set(fleet.vms.map((vm) => vm.instanceId)));
  });

  it('validates MaxResults 5..50 and the token', async () => {
    const small = await call('DescribeInstanceInformation', { MaxResults: 4 });
    expect(small.status).toBe(400);
    expect(small.json.__type).toBe('ValidationException');
    expect(small.json.message).toMatch(/'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 5/);
    expect((await call('DescribeInstanceInformation', { MaxResults: 51 })).json.__type).toBe('ValidationException');
    const token = await call('DescribeInstanceInformation', { MaxResults: 50, NextToken: 'bm9wZQ' });
    expect(token.json).toEqual({ __type: 'InvalidNextToken', Message: "The specified token isn't valid." });
  });

  it('filters by tag, by instance id and shows forced-offline nodes as ConnectionLost', async () => {
    const namespace = fleet.vms[0]!.namespace;
    const tagged = await call('DescribeInstanceInformation', {
      MaxResults: 50,
      Filters: [{ Key: `tag:istio-fleet`, Values: [namespace] }],
    });
    const expected = fleet.vms.filter((vm) => vm.namespace === namespace).map((vm) => vm.instanceId);
    expect((tagged.json.InstanceInformationList as Array<{ InstanceId: string }>).map((i) => i.InstanceId)).toEqual(expected.slice(0, 50));
    const offline = Object.keys(forced).find((id) => forced[id] === 'Undeliverable')!;
    const byId = await call('DescribeInstanceInformation', { MaxResults: 5, Filters: [{ Key: 'InstanceIds', Values: [offline] }] });
    expect(byId.json.InstanceInformationList).toMatchObject([{ InstanceId: offline, PingStatus: 'ConnectionLost' }]);
    expect(
      (await call('DescribeInstanceInformation', { Filters: [{ Key: 'ResourceType', Values: ['EC2Instance', 'ManagedInstance'] }] })).json
        .__type,
    ).toBe('InvalidInstanceInformationFilterValue');
  });

  it('keeps tags of hybrid nodes for ListTagsForResource only', async () => {
    const hybrid = fleet.vms.find((vm) => vm.hybrid)!;
    const ec2 = fleet.vms.find((vm) => !vm.hybrid)!;
    expect((await call('ListTagsForResource', { ResourceType: 'ManagedInstance', ResourceId: hybrid.instanceId })).json).toEqual({
      TagList: [{ Key: 'istio-fleet', Value: hybrid.namespace }],
    });
    expect((await call('ListTagsForResource', { ResourceType: 'ManagedInstance', ResourceId: ec2.instanceId })).json.__type).toBe(
      'InvalidResourceId',
    );
  });
});

describe('SendCommand', () => {
  it('refuses more than 50 instance ids, unknown ids and a long comment', async () => {
    const ids = fleet.vms.slice(0, 51).map((vm) => vm.instanceId);
    const tooMany = await call('SendCommand', { DocumentName: 'D', InstanceIds: ids });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.__type).toBe('ValidationException');
    expect(tooMany.json.message).toMatch(/'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50/);
    const unknown = await call('SendCommand', { DocumentName: 'D', InstanceIds: ['i-0123456789abcdef0'] });
    expect(unknown.json).toEqual({
      __type: 'InvalidInstanceId',
      Message: 'Instances [[i-0123456789abcdef0]] not in a valid state for account 123456789012',
    });
    expect((await call('SendCommand', { DocumentName: 'D', InstanceIds: ids.slice(0, 1), Comment: 'c'.repeat(101) })).json.__type).toBe(
      'ValidationException',
    );
    expect((await call('SendCommand', { DocumentName: 'D' })).json.__type).toBe('ValidationException');
    expect((await call('SendCommand', { DocumentName: 'D', InstanceIds: [ids[0], ids[0]] })).json.__type).toBe('DuplicateInstanceId');
  });

  it('knows no invocation right after sending, then runs it and uploads the output under the agent key layout', async () => {
    const instanceId = big;
    const commandId = await send({ InstanceIds: [instanceId], OutputS3BucketName: sim.bucket, OutputS3KeyPrefix: 'runs/r1/ssm-output' });
    expect((await call('GetCommandInvocation', { CommandId: commandId, InstanceId: instanceId })).json).toEqual({
      __type: 'InvocationDoesNotExist',
    });
    expect((await call('ListCommandInvocations', { CommandId: commandId })).json.CommandInvocations).toEqual([]);
    expect((await call('GetCommandInvocation', { CommandId: commandId, InstanceId: fleet.vms[59]!.instanceId })).json.__type).toBe(
      'InvocationDoesNotExist',
    );

    const [listed] = await terminalInvocations(commandId, 1);
    const key = `runs/r1/ssm-output/${commandId}/${instanceId}/awsrunShellScript/0.awsrunShellScript/stdout`;
    expect(listed!.StandardOutputUrl).toBe(`https://s3.us-east-1.amazonaws.com/${sim.bucket}/${key}`);
    const plugin = (listed!.CommandPlugins as Array<{ Output: string; ResponseCode: number }>)[0]!;
    expect(plugin.ResponseCode).toBe(0);
    expect(plugin.Output.length).toBe(2_500);
    expect(plugin.Output.endsWith('\n---Output truncated---')).toBe(true);

    const api = await call('GetCommandInvocation', { CommandId: commandId, InstanceId: instanceId });
    const cut = api.json.StandardOutputContent as string;
    expect(api.json).toMatchObject({ Status: 'Success', StatusDetails: 'Success', ResponseCode: 0 });
    expect(Buffer.byteLength(cut)).toBe(API_STDOUT_LIMIT);
    expect(cut.endsWith('--output truncated--')).toBe(true);
    expect(splitDiagnosticOutput(cut).truncated).toBe(true);

    const object = await until(async () => {
      const res = await fetch(`${sim.s3Endpoint}/${sim.bucket}/${key}`);
      const text = await res.text();
      return res.ok ? text : undefined;
    }, 'the uploaded stdout');
    expect(object).toContain(PADDING);
    expect(splitDiagnosticOutput(object).truncated).toBe(false);
    expect(object.startsWith(cut.slice(0, -'--output truncated--'.length))).toBe(true);
  });

  it('targets by tag and pages the invocations 50 at a time', async () => {
    const commandId = await send({ Targets: [{ Key: 'tag-key', Values: ['istio-fleet'] }], MaxErrors: '100%' });
    const first = await until(async () => {
      const { json } = await call('ListCommandInvocations', { CommandId: commandId, MaxResults: 50 });
      return (json.CommandInvocations as unknown[]).length === 50 ? json : undefined;
    }, 'a full first page');
    const second = await call('ListCommandInvocations', { CommandId: commandId, MaxResults: 50, NextToken: first.NextToken });
    expect(second.json.CommandInvocations).toHaveLength(10);
    expect((await call('ListCommandInvocations', { CommandId: commandId, MaxResults: 51 })).json.__type).toBe('ValidationException');
    expect((await call('ListCommandInvocations', { CommandId: 'not-a-command-id' })).json.__type).toBe('InvalidCommandId');
    const commands = await call('ListCommands', { CommandId: commandId });
    expect(commands.json.Commands).toMatchObject([{ CommandId: commandId, TargetCount: 60, MaxErrors: '100%' }]);
  });

  it('ends forced invocations with the Status SSM reports for each status detail', async () => {
    const ids = Object.keys(forced);
    const commandId = await send({ InstanceIds: ids, OutputS3BucketName: sim.bucket });
    const items = await terminalInvocations(commandId, ids.length);
    const seen = Object.fromEntries(items.map((i) => [forced[i.InstanceId as string], [i.Status, i.StatusDetails]]));
    expect(seen).toEqual({
      DeliveryTimedOut: ['TimedOut', 'DeliveryTimedOut'],
      ExecutionTimedOut: ['TimedOut', 'ExecutionTimedOut'],
      Failed: ['Failed', 'Failed'],
      AccessDenied: ['Failed', 'AccessDenied'],
      InvalidPlatform: ['Failed', 'InvalidPlatform'],
      Terminated: ['Failed', 'Terminated'],
      Cancelled: ['Cancelled', 'Cancelled'],
      Undeliverable: ['Failed', 'Undeliverable'],
    });
    const command = await call('ListCommands', { CommandId: commandId });
    expect(command.json.Commands).toMatchObject([{ Status: 'Failed', CompletedCount: ids.length }]);
  });

  it('throttles with ThrottlingException at the configured rate', async () => {
    const answers: Array<{ status: number; json: Record<string, unknown> }> = [];
    for (let i = 0; i < 20; i++) answers.push(await call('ListCommands', { MaxResults: 1 }));
    const throttled = answers.filter((a) => a.json.__type === 'ThrottlingException');
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    expect(throttled[0]).toEqual({ status: 400, json: { __type: 'ThrottlingException', message: 'Rate exceeded' } });
    expect(sim.ssm.stats().throttled).toBe(throttled.length);
  });
});

describe('the agent truncation', () => {
  it('cuts an API copy to the limit in bytes with the marker, and leaves a shorter one alone', () => {
    expect(cutApiCopy('short', 24_000)).toBe('short');
    const cut = cutApiCopy('é'.repeat(20_000), 24_000);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(24_002);
    expect(cut.endsWith('--output truncated--')).toBe(true);
  });

  it('joins stdout and stderr in the details Output and cuts it at 2,500 characters', () => {
    expect(detailsOutput('out', '')).toBe('out');
    expect(detailsOutput('out', 'err')).toBe('out\n----------ERROR-------\nerr');
    const both = detailsOutput('o'.repeat(3000), 'e'.repeat(3000));
    expect(both.length).toBeLessThanOrEqual(2_500);
    expect(both).toContain('\n---Output truncated---\n----------ERROR-------\n');
    expect(both.endsWith('\n---Error truncated----')).toBe(true);
  });
});
