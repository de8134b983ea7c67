import { createRequire } from 'node:module';
import type { AddressInfo, Server } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runTableDefinition } from '../../../lib/adapters/dynamo-run-store.ts';

/** dynalite (the DynamoDB protocol over LevelDB in memory) on 127.0.0.1, with the run table created. */
export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** Creates a run table as infra/resources declares it. */
  createRunTable(name: string): Promise<void>;
  close(): Promise<void>;
}

type DynaliteFactory = (options: Record<string, unknown>) => Server;
// dynalite is CommonJS without type declarations; typed here to the part used.
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

/** Starts dynalite on an ephemeral port; tables are ACTIVE as soon as they are created. */
export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    region: 'eu-west-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    endpoint,
    client,
    async createRunTable(name: string): Promise<void> {
      await client.send(new CreateTableCommand(runTableDefinition(name)));
    },
    async close(): Promise<void> {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
