import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { fleetTargetOf } from '../../functions/http-api.ts';
import { RUN_TABLE } from '../../lib/adapters/dynamo-run-store.ts';
import { S3ReportFiles } from '../../lib/adapters/s3-report-files.ts';
import { S3RunHistory } from '../../lib/adapters/s3-run-history.ts';
import { ComplianceReportSchema } from '../../lib/core/compliance/compliance-report.ts';
import type { HttpApiDeps } from '../../lib/http-api/deps.ts';
import { createHttpApiHandler } from '../../lib/http-api/handler.ts';
import type { HttpResponse } from '../../lib/http-api/http-types.ts';
import { startAudit } from '../../lib/use-cases/start-audit.ts';
import { S3RVER_CREDENTIALS } from '../../sim/s3-server.ts';
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

function api(options: { maxBodyBytes?: number } = {}): {
  handler: ReturnType<typeof createHttpApiHandler>;
  fleets: Array<{ runId: string; instanceIds: string[] | undefined; fleet: FakeFleet }>;
  logger: RecordingLogger;
  deps: HttpApiDeps;
} {
  const fleets: Array<{ runId: string; instanceIds: string[] | undefined; fleet: FakeFleet }> = [];
  const logger = new RecordingLogger();
  const s3 = new S3Client({
    region: 'eu-west-1',
    endpoint: stack.s3.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    maxAttempts: 1,
  });
  let sequence = 0;
  const deps: HttpApiDeps = {
    registry: stack.registry,
    reports: new S3ReportFiles({ client: s3, bucket: stack.bucket }),
    history: new S3RunHistory({ client: s3, bucket: stack.bucket }),
    idempotency: new DynamoDBPersistenceLayer({
      tableName: 'fleet-audit-runs',
      keyAttr: RUN_TABLE.partitionKey,
      expiryAttr: RUN_TABLE.ttlAttribute,
      awsSdkV3Client: stack.dynamo.client,
    }),
    newRunId: () => `20260302T100000Z-api-${(++sequence).toString(16).padStart(6, '0')}${Math.random().toString(16).slice(2, 8)}`,
    maxBodyBytes: options.maxBodyBytes ?? 5 * 1024 * 1024,
    logger,
    close: () => undefined,
    async startRun(runId, target) {
      const reach = fleetTargetOf(target, {
        documentName: 'FleetAudit-Diagnostics',
        tag: { key: 'istio-vm', values: ['prod'] },
        executionTimeoutSeconds: 300,
        deliveryTimeoutSeconds: 600,
        collectForMs: 30 * 60_000,
      });
      if ('refused' in reach) return { kind: 'refused', detail: reach.refused };
      const instanceIds = reach.target?.kind === 'instanceIds' ? reach.target.instanceIds : undefined;
      const started = await startAudit(
        {
          registry: stack.registry,
          store: stack.store,
          fleet: (id) => {
            const fleet = new FakeFleet(instanceIds ? instanceIds.map((instanceId) => ({ instanceId })) : VMS, `cmd-${id}`);
            fleets.push({ runId: id, instanceIds, fleet });
            return fleet;
          },
          clock: () => NOW,
        },
        { runId, trigger: 'api', toolVersion: 'test', targets: reach.target ?? {}, collectForMs: 30 * 60_000 },
      );
      return started.kind === 'duplicate' ? { kind: 'duplicate' } : { kind: 'started', status: 'COLLECTING' };
    },
  };
  return { handler: createHttpApiHandler(async () => deps), fleets, logger, deps };
}

/** An HTTP API event as API Gateway sends it for a route with IAM authorization. */
function event(
  routeKey: string,
  options: {
    runId?: string;
    body?: string;
    base64?: boolean;
    iam?: boolean;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2WithIAMAuthorizer {
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
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', host: 'abc123.execute-api.eu-west-1.amazonaws.com', ...options.headers },
    ...(options.query ? { queryStringParameters: options.query } : {}),
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

/** An RFC 9457 problem document, checked for its shape. */
function problemOf(response: HttpResponse, status: number): { detail: string; instance: string } {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toBe('application/problem+json');
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toMatchObject({
    type: 'about:blank',
    status,
    title: expect.any(String),
    detail: expect.any(String),
    instance: expect.stringMatching(/^\//),
  });
  return body as { detail: string; instance: string };
}

describe('POST /audits', () => {
  it('starts an audit of the default target, of listed instances, or of a tag value the deployment may command', async () => {
    const { handler, fleets } = api();
    const byTag = await handler(event('POST /audits'), { awsRequestId: 'r1' });
    expect(byTag.statusCode).toBe(202);
    const body = json(byTag);
    expect(body).toMatchObject({ status: 'COLLECTING', links: { self: `/audits/${body.runId}`, report: `/audits/${body.runId}/report` } });
    expect(byTag.headers.location).toBe(`/audits/${body.runId}`);
    expect(fleets[0]).toMatchObject({ instanceIds: undefined });

    const listed = await handler(
      event('POST /audits', { body: JSON.stringify({ instanceIds: ['i-0ccccccccccccccc2', 'i-0ccccccccccccccc2'] }), base64: true }),
      { awsRequestId: 'r2' },
    );
    expect(listed.statusCode).toBe(202);
    expect(fleets[1]?.instanceIds).toEqual(['i-0ccccccccccccccc2']);
    const run = await stack.registry.get(json(listed).runId as string);
    expect(run).toMatchObject({ status: 'COLLECTING', trigger: 'api', expectedCount: 1 });
    expect((await handler(event('POST /audits', { body: '{"tag": "istio-vm=prod"}' }))).statusCode).toBe(202);
  });

  it.each([
    ['a body that is not JSON', '{"instanceIds": [', 400, 'the body is not valid JSON'],
    ['a body that is not an object', '["i-0ccccccccccccccc1"]', 400, 'invalid request body: (root): '],
    [
      'an unknown field',
      '{"instanceIds": ["i-0ccccccccccccccc1"], "dryRun": true}',
      400,
      'invalid request body: (root): Unrecognized key: "dryRun"',
    ],
    [
      'an instance id that is not one',
      '{"instanceIds": ["i-0ccccccccccccccc1", "../../etc"]}',
      400,
      'invalid request body: instanceIds.1: must be an SSM managed node id',
    ],
    ['an empty list', '{"instanceIds": []}', 400, 'invalid request body: instanceIds: must list at least one instance id'],
    [
      'two targets',
      '{"instanceIds": ["i-0ccccccccccccccc1"], "namespace": "payments"}',
      400,
      'give at most one of instanceIds, tag and namespace',
    ],
    ['a tag the deployment may not command', '{"tag": "istio-vm=dev"}', 422, 'this deployment audits nodes tagged istio-vm=prod only'],
    ['a namespace, which needs the mesh at start', '{"namespace": "payments"}', 422, 'targeting a namespace needs the mesh'],
  ])('answers %s with a problem that says what is wrong', async (_name, body, status, detail) => {
    const { handler, fleets } = api();
    const response = await handler(event('POST /audits', { body }), { awsRequestId: 'r3' });
    expect(problemOf(response, status).detail).toContain(detail);
    expect(fleets).toHaveLength(0);
  });

  it('answers 413 for a body too large to be a request, and 415 for a body that is not declared JSON', async () => {
    const { handler } = api();
    const large = await handler(
      event('POST /audits', { body: JSON.stringify({ instanceIds: Array.from({ length: 5000 }, () => 'i-0ccccccccccccccc1') }) }),
    );
    expect(problemOf(large, 413).detail).toContain('larger than');
    const form = await handler(
      event('POST /audits', { body: 'instanceIds=i-0ccccccccccccccc1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    );
    expect(problemOf(form, 415).instance).toBe('/audits');
  });

  it('honours Idempotency-Key: the same key and body give the same run, another body is 409', async () => {
    const { handler, fleets } = api();
    const headers = { 'idempotency-key': 'deploy-4711' };
    const first = await handler(event('POST /audits', { body: '{"instanceIds": ["i-0ccccccccccccccc1"]}', headers }));
    const again = await handler(event('POST /audits', { body: '{"instanceIds": ["i-0ccccccccccccccc1"]}', headers }));
    expect(first.statusCode).toBe(202);
    expect(again).toEqual(first);
    expect(fleets).toHaveLength(1);
    const other = await handler(event('POST /audits', { body: '{"instanceIds": ["i-0ccccccccccccccc2"]}', headers }));
    expect(problemOf(other, 409).detail).toBe('this Idempotency-Key was used with another body');
    expect(fleets).toHaveLength(1);
    expect(problemOf(await handler(event('POST /audits', { headers: { 'idempotency-key': 'with space' } })), 400).detail).toContain(
      'Idempotency-Key',
    );
  });
});

describe('GET /audits, /audits/{runId} and its report', () => {
  it('shows the status, then the report once the run is done, in every format stored, read back through the report schema', async () => {
    const { handler, fleets } = api();
    const runId = json(await handler(event('POST /audits'))).runId as string;
    const collecting = await handler(event('GET /audits/{runId}', { runId }));
    expect(collecting.statusCode).toBe(200);
    expect(json(collecting)).toMatchObject({
      runId,
      status: 'COLLECTING',
      trigger: 'api',
      expectedCount: 2,
      links: { report: `/audits/${runId}/report` },
    });
    const early = await handler(event('GET /audits/{runId}/report', { runId }));
    expect(problemOf(early, 409).detail).toBe(`audit run ${runId} has no report: it is COLLECTING`);

    const fleet = fleets.at(-1)!.fleet;
    expect(
      await finalizeAudit(
        { registry: stack.registry, store: stack.store, fleet: () => fleet, mesh: async () => fakeMesh(VMS), clock: () => NOW },
        { runId },
      ),
    ).toMatchObject({ kind: 'done' });
    const report = await handler(event('GET /audits/{runId}/report', { runId }));
    expect(report.statusCode).toBe(200);
    expect(ReportSchema.parse(json(report))).toMatchObject({ runId, summary: { vms: 2 } });
    const html = await handler(event('GET /audits/{runId}/report', { runId, query: { format: 'html' } }));
    expect(html).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
    expect(html.body).toMatch(/^<!doctype html>/);
    expect(problemOf(await handler(event('GET /audits/{runId}/report', { runId, query: { format: 'pdf' } })), 400).detail).toContain(
      'format',
    );
    expect(json(await handler(event('GET /audits/{runId}', { runId })))).toMatchObject({ status: 'DONE', summary: { vms: 2 } });
  });

  it('answers a report larger than a Lambda response with 303 to a short-lived link', async () => {
    const { handler } = api({ maxBodyBytes: 10 });
    const { runs } = await stack.registry.list({ limit: 50 });
    const done = runs.find((r) => r.status === 'DONE')!;
    const response = await handler(event('GET /audits/{runId}/report', { runId: done.runId, query: { format: 'html' } }));
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toContain(`/runs/${done.runId}/report.html?`);
    expect(response.headers.location).toContain('X-Amz-Expires=300');
  });

  it('lists runs newest first with a cursor', async () => {
    const { handler } = api();
    for (let i = 0; i < 3; i++) await handler(event('POST /audits'));
    const first = json(await handler(event('GET /audits', { query: { limit: '2' } })));
    expect((first.items as unknown[]).length).toBe(2);
    expect(first.next).toEqual(expect.any(String));
    const second = json(await handler(event('GET /audits', { query: { limit: '2', cursor: first.next as string } })));
    expect((second.items as Array<{ runId: string }>).map((r) => r.runId)).not.toContain(
      (first.items as Array<{ runId: string }>)[0]!.runId,
    );
    expect(problemOf(await handler(event('GET /audits', { query: { limit: '0' } })), 400).detail).toContain('limit');
    expect(problemOf(await handler(event('GET /audits', { query: { cursor: 'forged' } })), 400).detail).toContain('cursor');
    expect(problemOf(await handler(event('GET /audits', { query: { sort: 'asc' } })), 400).detail).toContain('Unrecognized key');
  });

  it('does not serve a stored report that breaks the report schema', async () => {
    const { handler, logger } = api();
    const { runs } = await stack.registry.list({ limit: 50 });
    const runId = runs.find((r) => r.status === 'DONE')!.runId;
    await stack.s3.writer.put(stack.bucket, `runs/${runId}/report.json`, JSON.stringify({ schemaVersion: 1, runId, findings: '<script>' }));
    const response = await handler(event('GET /audits/{runId}/report', { runId }));
    expect(problemOf(response, 500).detail).toBe(`the stored report of audit run ${runId} is not valid, so it is not served`);
    expect(response.body).not.toContain('<script>');
    expect(logger.lines.at(-1)).toMatchObject({ level: 'error', extra: { problem: expect.stringMatching(/^report\.json: /) } });
  });

  it.each([
    ['GET /audits/{runId}', 'no-such-run', 404, 'no audit run no-such-run'],
    ['GET /audits/{runId}/report', 'no-such-run', 404, 'no audit run no-such-run'],
    ['GET /audits/{runId}', '../etc', 400, 'the run id must be 1 to 128 letters'],
    ['GET /audits/{runId}/report', '.hidden', 400, 'the run id must be 1 to 128 letters'],
    ['GET /audits/{runId}', 'x'.repeat(129), 400, 'the run id must be 1 to 128 letters'],
  ])('%s for %s answers %i', async (route, runId, status, detail) => {
    const { handler } = api();
    expect(problemOf(await handler(event(route, { runId })), status).detail).toContain(detail);
  });
});

describe('GET /compliance', () => {
  it('answers compliance over the stored runs as JSON, CSV or HTML, leaving out a run it cannot read', async () => {
    const { handler, fleets } = api();
    const runId = json(await handler(event('POST /audits'))).runId as string;
    const fleet = fleets.at(-1)!.fleet;
    await finalizeAudit(
      { registry: stack.registry, store: stack.store, fleet: () => fleet, mesh: async () => fakeMesh(VMS), clock: () => NOW },
      { runId },
    );
    const compliance = ComplianceReportSchema.parse(json(await handler(event('GET /compliance', { query: { since: '30d' } }))));
    expect(compliance.runs.map((r) => r.runId)).toContain(runId);
    const csv = await handler(event('GET /compliance', { query: { format: 'csv' } }));
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(problemOf(await handler(event('GET /compliance', { query: { since: 'forever' } })), 400).detail).toContain('since');
  });
});

describe('any route', () => {
  it('refuses a request that did not come through IAM authorization', async () => {
    const { handler, fleets } = api();
    problemOf(await handler(event('POST /audits', { iam: false })), 403);
    expect(fleets).toHaveLength(0);
  });

  it('answers 404 for a route it does not serve, and 400 for an event that is not an HTTP API one', async () => {
    const { handler } = api();
    problemOf(await handler(event('DELETE /audits/{runId}', { runId: 'x' })), 404);
    const notHttp = await handler({ source: 'aws.ssm' });
    expect(problemOf(notHttp, 400).detail).toMatch(/^the request is malformed: /);
  });

  it('answers 500 without the details when a use case throws, and logs the error with the caller', async () => {
    const logger = new RecordingLogger();
    const failing = {
      get: async () => {
        throw new Error('GetItem failed: ProvisionedThroughputExceededException (table t, run some-run)');
      },
    } as unknown as HttpApiDeps['registry'];
    const base = api();
    const handler = createHttpApiHandler(async () => ({ ...base.deps, registry: failing, logger }));
    const response = await handler(event('GET /audits/{runId}', { runId: 'some-run' }), { awsRequestId: 'req-500' });
    expect(problemOf(response, 500)).toMatchObject({ detail: 'the request failed; the log has the details', requestId: 'req-500' });
    expect(response.body).not.toContain('ProvisionedThroughput');
    expect(logger.lines.at(-1)).toMatchObject({
      level: 'error',
      keys: { caller: 'arn:aws:sts::123456789012:assumed-role/platform-auditor/auditor', route: 'GET /audits/{runId}', runId: 'some-run' },
      extra: { errorMessage: 'GetItem failed: ProvisionedThroughputExceededException (table t, run some-run)' },
    });
  });
});
