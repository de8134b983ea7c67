import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApiHandler, type HttpApiDeps, type HttpResponse } from '../../functions/http-api.ts';
import { ReportSchema } from '../../lib/core/report.ts';
import { finalizeAudit } from '../../lib/use-cases/finalize-audit.ts';
import type { TestVm } from '../support/bundle-builder.ts';
import { FakeFleet, fakeMesh, RecordingLogger } from './support/fakes.ts';
import { startLocalStack, type LocalStack } from './support/stack.ts';

/** The HTTP API called with API Gateway HTTP API (payload 2.0, IAM authorizer) events, good and bad. */

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
});
afterAll(async () => {
  await stack?.close();
});

const VMS: TestVm[] = [{ instanceId: 'i-0ccccccccccccccc1' }, { instanceId: 'i-0ccccccccccccccc2', httpCode: '503' }];
const NOW = new Date('2026-03-02T10:00:00.000Z');

function api(): { handler: ReturnType<typeof createHttpApiHandler>; fleets: Array<{ runId: string; instanceIds: string[] | undefined; fleet: FakeFleet }>; logger: RecordingLogger } {
  const fleets: Array<{ runId: string; instanceIds: string[] | undefined; fleet: FakeFleet }> = [];
  const logger = new RecordingLogger();
  const deps: HttpApiDeps = {
    registry: stack.registry,
    store: stack.store,
    fleet: (runId, instanceIds) => {
      const fleet = new FakeFleet(instanceIds ? instanceIds.map((instanceId) => ({ instanceId })) : VMS, `cmd-${runId}`);
      fleets.push({ runId, instanceIds, fleet });
      return fleet;
    },
    clock: () => NOW,
    collectForMs: 30 * 60_000,
    toolVersion: 'test',
    defaultTargets: { tag: { key: 'istio-vm' } },
    logger,
    close: () => undefined,
  };
  return { handler: createHttpApiHandler(async () => deps), fleets, logger };
}

/** An HTTP API event as API Gateway sends it for a route with IAM authorization. */
function event(routeKey: string, options: { runId?: string; body?: string; base64?: boolean; iam?: boolean } = {}): APIGatewayProxyEventV2WithIAMAuthorizer {
  const [method, path] = routeKey.split(' ') as [string, string];
  const rawPath = options.runId === undefined ? path : path.replace('{runId}', encodeURIComponent(options.runId));
  const iam = {
    accessKey: 'ASIAEXAMPLE',
    accountId: '123456789012',
    callerId: 'AROAEXAMPLE:auditor',
    cognitoIdentity: null,
    principalOrgId: 'o-example',
    userArn: 'arn:aws:sts::123456789012:assumed-role/platform-auditor/auditor',
    userId: 'AROAEXAMPLE:auditor',
  };
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'abc123.execute-api.eu-west-1.amazonaws.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: (options.iam === false ? undefined : { iam }) as APIGatewayProxyEventV2WithIAMAuthorizer['requestContext']['authorizer'],
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.10', userAgent: 'aws-cli/2' },
      requestId: 'api-req-1',
      routeKey,
      stage: '$default',
      time: '02/Mar/2026:10:00:00 +0000',
      timeEpoch: NOW.getTime(),
    },
    ...(options.runId === undefined ? {} : { pathParameters: { runId: options.runId } }),
    ...(options.body === undefined ? {} : { body: options.base64 ? Buffer.from(options.body).toString('base64') : options.body }),
    isBase64Encoded: options.base64 ?? false,
  };
}

function json(response: HttpResponse): Record<string, unknown> {
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(response.body) as Record<string, unknown>;
}

describe('POST /audits', () => {
  it('starts an audit of the target tag, and of the instances listed', async () => {
    const { handler, fleets } = api();
    const byTag = await handler(event('POST /audits'), { awsRequestId: 'r1' });
    expect(byTag.statusCode).toBe(202);
    const body = json(byTag);
    expect(body).toMatchObject({ status: 'COLLECTING', expected: 2, links: { self: `/audits/${body.runId}`, report: `/audits/${body.runId}/report` } });
    expect(body.runId).toMatch(/^20260302T100000Z-api-[0-9a-f]{6}$/);
    expect(fleets[0]).toMatchObject({ instanceIds: undefined });

    const listed = await handler(event('POST /audits', { body: JSON.stringify({ instanceIds: ['i-0ccccccccccccccc2', 'i-0ccccccccccccccc2'] }), base64: true }), { awsRequestId: 'r2' });
    expect(listed.statusCode).toBe(202);
    expect(fleets[1]?.instanceIds).toEqual(['i-0ccccccccccccccc2']);
    const run = await stack.registry.get(json(listed).runId as string);
    expect(run).toMatchObject({ status: 'COLLECTING', trigger: 'api', expectedCount: 1 });
  });

  it.each([
    ['a body that is not JSON', '{"instanceIds": [', 'the body is not valid JSON'],
    ['a body that is not an object', '["i-0ccccccccccccccc1"]', 'invalid request body: (root): '],
    ['an unknown field', '{"instanceIds": ["i-0ccccccccccccccc1"], "dryRun": true}', 'invalid request body: (root): Unrecognized key: "dryRun"'],
    ['an instance id that is not one', '{"instanceIds": ["i-0ccccccccccccccc1", "../../etc"]}', 'invalid request body: instanceIds.1: must be an SSM managed node id'],
    ['an empty list', '{"instanceIds": []}', 'invalid request body: instanceIds: must list at least one instance id'],
  ])('answers 400 for %s, with a message that says what is wrong', async (_name, body, message) => {
    const { handler, fleets } = api();
    const response = await handler(event('POST /audits', { body }), { awsRequestId: 'r3' });
    expect(response.statusCode).toBe(400);
    expect(json(response).message).toContain(message);
    expect(fleets).toHaveLength(0);
  });

  it('answers 413 for a body too large to be a request', async () => {
    const { handler } = api();
    const response = await handler(event('POST /audits', { body: JSON.stringify({ instanceIds: Array.from({ length: 5000 }, () => 'i-0ccccccccccccccc1') }) }));
    expect(response.statusCode).toBe(413);
  });
});

describe('GET /audits/{runId} and its report', () => {
  it('shows the status, then the report once the run is done, read back through the report schema', async () => {
    const { handler, fleets } = api();
    const runId = json(await handler(event('POST /audits'))).runId as string;
    const collecting = await handler(event('GET /audits/{runId}', { runId }));
    expect(collecting.statusCode).toBe(200);
    expect(json(collecting)).toMatchObject({ runId, status: 'COLLECTING', trigger: 'api', expectedCount: 2, links: { report: `/audits/${runId}/report` } });
    const early = await handler(event('GET /audits/{runId}/report', { runId }));
    expect(early.statusCode).toBe(409);
    expect(json(early).message).toBe(`audit run ${runId} has no report: it is COLLECTING`);

    const fleet = fleets.at(-1)!.fleet;
    expect(await finalizeAudit({ registry: stack.registry, store: stack.store, fleet: () => fleet, mesh: async () => fakeMesh(VMS), clock: () => NOW }, { runId })).toMatchObject({ kind: 'done' });
    const report = await handler(event('GET /audits/{runId}/report', { runId }));
    expect(report.statusCode).toBe(200);
    const parsed = ReportSchema.parse(json(report));
    expect(parsed).toMatchObject({ runId, summary: { vms: 2 } });
    expect(json(await handler(event('GET /audits/{runId}', { runId })))).toMatchObject({ status: 'DONE', summary: { vms: 2 } });
  });

  it('does not serve a stored report that breaks the report schema', async () => {
    const { handler, logger } = api();
    const runId = json(await handler(event('POST /audits'))).runId as string;
    await stack.s3.writer.put(stack.bucket, `runs/${runId}/report.json`, JSON.stringify({ schemaVersion: 1, runId, findings: '<script>' }));
    const response = await handler(event('GET /audits/{runId}/report', { runId }));
    expect(response.statusCode).toBe(500);
    expect(json(response).message).toBe(`the stored report of audit run ${runId} is not valid, so it is not served`);
    expect(response.body).not.toContain('<script>');
    expect(logger.lines.at(-1)).toMatchObject({ level: 'error', extra: { problem: expect.stringMatching(/^report\.json: /) } });
  });

  it.each([
    ['GET /audits/{runId}', 'no-such-run', 404, 'no audit run no-such-run'],
    ['GET /audits/{runId}/report', 'no-such-run', 404, 'no audit run no-such-run'],
    ['GET /audits/{runId}', '../etc', 400, 'the run id must be 1 to 128 letters'],
    ['GET /audits/{runId}/report', '.hidden', 400, 'the run id must be 1 to 128 letters'],
    ['GET /audits/{runId}', 'x'.repeat(129), 400, 'the run id must be 1 to 128 letters'],
  ])('%s for %s answers %i', async (route, runId, status, message) => {
    const { handler } = api();
    const response = await handler(event(route, { runId }));
    expect(response.statusCode).toBe(status);
    expect(json(response).message).toContain(message);
  });
});

describe('any route', () => {
  it('refuses a request that did not come through IAM authorization', async () => {
    const { handler, fleets } = api();
    const response = await handler(event('POST /audits', { iam: false }));
    expect(response.statusCode).toBe(403);
    expect(fleets).toHaveLength(0);
  });

  it('answers 404 for a route it does not serve, and 400 for an event that is not an HTTP API one', async () => {
    const { handler } = api();
    expect((await handler(event('DELETE /audits/{runId}', { runId: 'x' }))).statusCode).toBe(404);
    const notHttp = await handler({ source: 'aws.ssm' });
    expect(notHttp.statusCode).toBe(400);
    expect(json(notHttp).message).toMatch(/^the request is malformed: /);
  });

  it('answers 500 without the details when a use case throws, and logs the error with the caller', async () => {
    const logger = new RecordingLogger();
    const failing = {
      get: async () => {
        throw new Error('GetItem failed: ProvisionedThroughputExceededException (table t, run some-run)');
      },
    } as unknown as HttpApiDeps['registry'];
    const handler = createHttpApiHandler(async () => ({
      registry: failing,
      store: stack.store,
      fleet: () => new FakeFleet(VMS),
      clock: () => NOW,
      collectForMs: 1,
      toolVersion: 'test',
      defaultTargets: {},
      logger,
      close: () => undefined,
    }));
    const response = await handler(event('GET /audits/{runId}', { runId: 'some-run' }), { awsRequestId: 'req-500' });
    expect(response.statusCode).toBe(500);
    expect(json(response)).toEqual({ message: 'the request failed; the function log has the details', requestId: 'req-500' });
    expect(logger.lines.at(-1)).toMatchObject({
      level: 'error',
      keys: { caller: 'arn:aws:sts::123456789012:assumed-role/platform-auditor/auditor', route: 'GET /audits/{runId}', runId: 'some-run' },
      extra: { errorMessage: 'GetItem failed: ProvisionedThroughputExceededException (table t, run some-run)' },
    });
  });
});
