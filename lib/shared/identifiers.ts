import { randomBytes } from 'node:crypto';

/**
 * The identifiers of the domain, each with its one rule. They become file names, object keys and request
 * fields, so each rule also keeps a value from climbing out of where it is stored.
 */

/**
 * An SSM managed node: an EC2 instance (`i-` and 8 or 17 hex digits) or a hybrid node (`mi-` and 17).
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html,
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-managed-nodes.html
 */
export const INSTANCE_ID = /^(?:i-(?:[0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$/;

/** True for an SSM managed node id. */
export function isInstanceId(value: string): boolean {
  return INSTANCE_ID.test(value);
}

/** A run id: one path segment (a directory name, an S3 key segment), so it can never climb out of the store. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** True for a run id that is safe as one path segment. */
export function isRunId(value: string): boolean {
  return RUN_ID.test(value);
}

/** An AWS region as its code is written: `eu-west-1`, `us-gov-west-1`, `ap-southeast-4`. */
export const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/** A ConfigMap name: a DNS subdomain (RFC 1123) of at most 253 characters, as the Kubernetes API server requires. */
export const CONFIGMAP_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** True for a name the API server accepts for a ConfigMap. */
export function isConfigMapName(value: string): boolean {
  return value.length <= 253 && CONFIGMAP_NAME.test(value);
}

/** `20260301T060000Z`: a time as it starts a run id. */
export function compactTime(time: Date): string {
  return time.toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/**
 * A run id for an audit started at `now` by `trigger` (`cli`, `api`, `schedule`…): sortable by time, and
 * unique by a random suffix of 3 bytes, so two audits started in one second by one trigger do not collide.
 */
export function newRunId(now: Date, trigger: string): string {
  return `${compactTime(now)}-${trigger}-${randomBytes(3).toString('hex')}`;
}

/** Where SSM writes a run's command output: beside its evidence, under the run's own prefix. */
export function ssmOutputPrefix(runId: string): string {
  return `runs/${runId}/ssm-output`;
}
