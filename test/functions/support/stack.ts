import { S3Client } from '@aws-sdk/client-s3';
import { DynamoRunRegistry } from '../../../lib/adapters/dynamo-run-store.ts';
import { S3AuditStore } from '../../../lib/adapters/s3-audit-store.ts';
import { S3RVER_CREDENTIALS, startS3Server, type SimS3Server } from '../../../sim/s3-server.ts';
import { startDynalite, type LocalDynamo } from './local-aws.ts';

/** The storage side of the deployment on loopback: the evidence bucket on s3rver, the run table on dynalite. */
export interface LocalStack {
  s3: SimS3Server;
  dynamo: LocalDynamo;
  bucket: string;
  store: S3AuditStore;
  registry: DynamoRunRegistry;
  close(): Promise<void>;
}

/** Starts both speakers, creates the bucket and the table. */
export async function startLocalStack(): Promise<LocalStack> {
  const bucket = 'fleet-audit-evidence';
  const s3 = await startS3Server({ buckets: [bucket] });
  const dynamo = await startDynalite();
  await dynamo.createRunTable('fleet-audit-runs');
  const client = new S3Client({
    region: 'eu-west-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    maxAttempts: 1,
  });
  return {
    s3,
    dynamo,
    bucket,
    store: new S3AuditStore({ bucket, client, encryption: { kind: 'AES256' } }),
    registry: new DynamoRunRegistry({ tableName: 'fleet-audit-runs', client: dynamo.client }),
    async close(): Promise<void> {
      client.destroy();
      await dynamo.close();
      await s3.close();
    },
  };
}
