import type { SsmFleetRunnerOptions, SsmTarget } from '../../lib/adapters/ssm-fleet-runner.ts';
import type { SimEndpoints } from '../../sim/sim-endpoints.ts';

/** SsmFleetRunner options that reach the simulated SSM and S3 endpoints for one run, with fast retries. */
export function simRunnerOptions(
  sim: SimEndpoints,
  runId: string,
  target: SsmTarget,
  overrides: Partial<SsmFleetRunnerOptions> = {},
): SsmFleetRunnerOptions {
  return {
    region: sim.region,
    credentials: sim.credentials,
    ssmEndpoint: sim.ssmEndpoint,
    s3Endpoint: sim.s3Endpoint,
    forcePathStyle: true,
    bucket: sim.bucket,
    keyPrefix: `runs/${runId}/ssm-output`,
    comment: `fleet-audit run ${runId}`,
    documentName: 'FleetAudit-Diagnostics',
    target,
    outputRetry: { initialDelayMs: 20, attempts: 8 },
    apiRetry: { initialDelayMs: 20 },
    ...overrides,
  };
}
