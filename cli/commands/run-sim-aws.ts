import type { AwsAuditResult, AwsAuditSettings } from '../../lib/compose/aws-audit.ts';
import { buildSimFleetAsync } from '../../sim/fleet.ts';
import type * as SimCloudModuleType from '../../sim/sim-cloud.ts';
import { CliUsageError } from '../context.ts';
import type { RunOptions } from './run-flags.ts';

/** Polls and retries at the pace of the simulated endpoints, so 50 VMs take seconds. */
export const SIM_AWS_TIMING: NonNullable<AwsAuditSettings['timing']> = {
  poll: { initialDelayMs: 25, maxDelayMs: 150 },
  outputRetry: { initialDelayMs: 20, attempts: 8 },
  apiRetry: { initialDelayMs: 20 },
  waitTimeoutMs: 120_000,
};

type SimCloudModule = typeof SimCloudModuleType;

/**
 * The simulated endpoints run on development packages (s3rver, js-yaml), so they are loaded only for
 * `--source sim-aws`, and an installed package without them says so in one line.
 */
async function loadSimCloud(): Promise<SimCloudModule> {
  try {
    return await import('../../sim/sim-cloud.ts');
  } catch (cause) {
    // ESM imports and CommonJS requires say a package is missing with different codes.
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw cause;
    throw new CliUsageError(
      '--source sim-aws needs the development dependencies (s3rver, js-yaml): run it from a source checkout after npm install',
    );
  }
}

/** `--source sim-aws`: the simulated fleet behind simulated SSM, S3 and Kubernetes endpoints, audited through the AWS path. */
export async function auditSimThroughAws(
  opts: RunOptions,
  runId: string,
  startedAt: Date,
  audit: (settings: AwsAuditSettings) => Promise<AwsAuditResult>,
): Promise<AwsAuditResult> {
  const fleet = await buildSimFleetAsync({ vms: opts.vms, seed: opts.seed, now: startedAt });
  const cloud = await (await loadSimCloud()).startSimCloud({ fleet });
  try {
    return await audit({
      runId,
      region: cloud.region,
      credentials: cloud.credentials,
      target: { kind: 'tag', key: cloud.tagKey },
      bucket: cloud.bucket,
      document: opts.document,
      ssmEndpoint: cloud.ssmEndpoint,
      s3Endpoint: cloud.s3Endpoint,
      kube: { kind: 'file', path: cloud.kubeconfigPath },
      targets: { simulated: { vms: opts.vms, seed: opts.seed }, through: 'aws-api' },
      timing: SIM_AWS_TIMING,
      ssmCompliance: opts.ssmCompliance,
    });
  } finally {
    await cloud.close();
  }
}
