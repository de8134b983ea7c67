import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoRunRegistry } from '../../lib/adapters/dynamo-run-store.ts';
import { simInstanceInformation } from '../../sim/cluster.ts';
import { buildSimFleetAsync, type SimFleet } from '../../sim/fleet.ts';
import { startSimEndpoints, type SimEndpoints } from '../../sim/sim-endpoints.ts';
import { captureEmf } from './support/emf.ts';
import { startDynalite, type LocalDynamo } from './support/local-aws.ts';

/**
 * The scheduled start as deployed: the Lambda entry point itself, composed from its environment by the
 * composition root, its SDK clients pointed by the SDK's own endpoint variables at the simulated SSM endpoint,
 * s3rver and dynalite. What the run keeps as its API calls must be the calls the SSM endpoint answered.
 */

const TABLE = 'runs-call-counting';
const RUN_ID = '20260301T060000Z-scheduled';
let fleet: SimFleet;
let sim: SimEndpoints;
let dynamo: LocalDynamo;

beforeAll(async () => {
  fleet = await buildSimFleetAsync({ vms: 3, seed: 5, now: new Date() });
  sim = await startSimEndpoints({ fleet, documentName: 'fleet-audit-dev-diagnostics' });
  dynamo = await startDynalite();
  await dynamo.createRunTable(TABLE);
});
afterAll(async () => {
  await sim?.close();
  await dynamo?.close();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the API calls of a scheduled start, through the deployed entry point', () => {
  it('are kept with the run as the composition root counted them: every SSM call the endpoint answered', async () => {
    const tag = (simInstanceInformation(fleet, fleet.vms[0]!).Tags ?? [])[0]!;
    const env: Record<string, string> = {
      AWS_REGION: sim.region,
      AWS_ACCESS_KEY_ID: sim.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: sim.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_SSM: sim.ssmEndpoint,
      AWS_ENDPOINT_URL_S3: sim.s3Endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AUDIT_BUCKET: sim.bucket,
      AUDIT_TABLE: TABLE,
      SSM_DOCUMENT_NAME: 'fleet-audit-dev-diagnostics',
      TARGET_TAG_KEY: tag.Key,
      METRICS_NAMESPACE: 'FleetAuditTest',
      // The handler's log lines are not what this test reads.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    vi.resetModules();
    const { handler } = await import('../../functions/start-audit.ts');
    const before = sim.ssm.stats().requests;
    const emf = captureEmf();
    let result;
    try {
      result = await handler({ trigger: 'schedule', scheduledTime: '2026-03-01T06:00:00Z' }, { awsRequestId: 'r' });
    } finally {
      emf.stop();
    }
    expect(result).toMatchObject({ kind: 'started', runId: RUN_ID, expected: 3 });

    const answered = Object.fromEntries(
      Object.entries(sim.ssm.stats().requests)
        .map(([op, n]) => [`SSM.${op}`, n - (before[op] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
    expect(Object.keys(answered)).toEqual(expect.arrayContaining(['SSM.DescribeInstanceInformation', 'SSM.SendCommand']));
    const registry = new DynamoRunRegistry({ tableName: TABLE, client: dynamo.client });
    expect(await registry.get(RUN_ID)).toMatchObject({ status: 'COLLECTING', apiCalls: answered });
  });
});
