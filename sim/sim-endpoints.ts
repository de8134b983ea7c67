import { S3RVER_CREDENTIALS, startS3Server, type SimS3Server, type SimS3ServerOptions } from './s3-server.ts';
import { startSsmApiServer, type SsmApiServer, type SsmApiServerOptions } from './ssm-api-server.ts';

export const DEFAULT_SIM_BUCKET = 'fleet-audit-evidence';

export interface SimEndpointsOptions extends Omit<SsmApiServerOptions, 's3'> {
  /** The evidence bucket created on the S3-compatible endpoint. */
  bucket?: string;
  /** Faults of the S3-compatible endpoint, and a look at every object it stores. */
  s3?: Pick<SimS3ServerOptions, 'faults' | 'onStored'>;
}

export interface SimEndpoints {
  ssmEndpoint: string;
  s3Endpoint: string;
  bucket: string;
  region: string;
  /** Credentials both endpoints accept (s3rver checks the access key id). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  ssm: SsmApiServer;
  s3: SimS3Server;
  close(): Promise<void>;
}

/** Starts the simulated SSM endpoint and an S3-compatible endpoint holding the evidence bucket, on loopback. */
export async function startSimEndpoints(options: SimEndpointsOptions): Promise<SimEndpoints> {
  const bucket = options.bucket ?? DEFAULT_SIM_BUCKET;
  const s3 = await startS3Server({ buckets: [bucket], ...options.s3, ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}) });
  let ssm: SsmApiServer;
  try {
    const { s3: _s3, ...ssmOptions } = options;
    ssm = await startSsmApiServer({ ...ssmOptions, s3: s3.writer });
  } catch (err) {
    await s3.close();
    throw err;
  }
  return {
    ssmEndpoint: ssm.endpoint,
    s3Endpoint: s3.endpoint,
    bucket,
    region: ssm.region,
    credentials: { ...S3RVER_CREDENTIALS },
    ssm,
    s3,
    async close(): Promise<void> {
      // The SSM side first: it may still be uploading output to S3.
      await ssm.close();
      await s3.close();
    },
  };
}
