import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import type { AwsAuditSettings } from '../../lib/compose/aws-audit.ts';
import type { SsmTarget } from '../../lib/compose/aws-side.ts';
import type { ReportFormat } from '../../lib/core/render/artifacts.ts';
import type { Severity } from '../../lib/core/report.ts';
import { AWS_REGION, CONFIGMAP_NAME, INSTANCE_ID } from '../../lib/shared/identifiers.ts';
import { CliUsageError } from '../context.ts';

// The flags of `fleet-audit run`: which belong to which source, and the AWS ones checked into the audit's settings.

export const RUN_SOURCES = ['sim', 'aws', 'sim-aws'] as const;
type RunSource = (typeof RUN_SOURCES)[number];

export const DEFAULT_DOCUMENT = 'FleetAudit-Diagnostics';

export interface RunOptions {
  source: RunSource;
  vms: number;
  seed: number;
  out: string;
  format?: ReportFormat[];
  runId?: string;
  failOn?: Severity;
  failOnUnknown?: boolean;
  output?: 'json';
  waivers?: string;
  region?: string;
  kubeconfig?: string;
  context?: string;
  tag?: string;
  instanceIds?: string;
  bucket?: string;
  document: string;
  ssmEndpoint?: string;
  s3Endpoint?: string;
  rootCaConfigmap?: string;
  ssmCompliance: boolean;
}

/** Flags that only mean something for `--source aws`, by commander attribute name. */
const AWS_FLAGS = [
  'region',
  'kubeconfig',
  'context',
  'tag',
  'instanceIds',
  'bucket',
  'document',
  'ssmEndpoint',
  's3Endpoint',
  'rootCaConfigmap',
] as const;
/** Flags that only mean something for the simulated fleet. */
const SIM_FLAGS = ['vms', 'seed'] as const;

/** Stops with a CliUsageError when a flag given on the command line means nothing for the chosen source. */
export function checkFlagsOfSource(opts: RunOptions, command: Command): void {
  const given = (name: string): boolean => command.getOptionValueSource(name) === 'cli';
  const misplaced = opts.source === 'aws' ? SIM_FLAGS.filter(given) : AWS_FLAGS.filter(given);
  if (misplaced.length > 0) {
    const flags = misplaced.map((name) => `--${kebab(name)}`).join(', ');
    throw new CliUsageError(opts.source === 'aws' ? `${flags}: only for --source sim or sim-aws` : `${flags}: only for --source aws`);
  }
  if (opts.source === 'sim' && given('ssmCompliance')) throw new CliUsageError('--no-ssm-compliance: only for --source aws or sim-aws');
}

const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;
// Hex only: the ids become file names in the evidence bundle.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DOCUMENT = /^(?:arn:[\w-]+:ssm:[\w-]+:\d{12}:document\/)?[A-Za-z0-9_.-]{3,128}$/;

const TagFlagSchema = z
  .string()
  .transform((raw) => {
    const at = raw.indexOf('=');
    return at < 0
      ? { key: raw.trim() }
      : {
          key: raw.slice(0, at).trim(),
          values: raw
            .slice(at + 1)
            .split(',')
            .map((v) => v.trim()),
        };
  })
  .pipe(
    z.object({
      key: z.string().regex(TAG_KEY, { error: 'expected KEY=VALUE: the key must be 1-128 letters, digits, spaces or _.:/+-@' }),
      values: z
        .array(z.string().regex(TAG_VALUE, { error: 'expected KEY=VALUE: each value must be 1-256 letters, digits, spaces or _.:/=+-@' }))
        .max(50, { error: 'at most 50 values' })
        .optional(),
    }),
  );

const InstanceIdsFlagSchema = z
  .string()
  .transform((raw) => [
    ...new Set(
      raw
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    ),
  ])
  .pipe(
    z
      .array(z.string().regex(INSTANCE_ID, { error: (issue) => `${JSON.stringify(issue.input)} is not a managed node id (i-… or mi-…)` }))
      .min(1, { error: 'expected a comma-separated list of managed node ids (i-…,mi-…)' }),
  );

const EndpointSchema = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

const AwsFlagsSchema = z
  .object({
    region: z.string().regex(AWS_REGION, { error: 'expected an AWS region such as eu-west-1' }).optional(),
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    tag: TagFlagSchema.optional(),
    instanceIds: InstanceIdsFlagSchema.optional(),
    bucket: z.string().regex(BUCKET, { error: 'expected an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)' }).optional(),
    document: z.string().regex(DOCUMENT, { error: 'expected an SSM document name or ARN' }),
    ssmEndpoint: EndpointSchema.optional(),
    s3Endpoint: EndpointSchema.optional(),
    rootCaConfigmap: z
      .string()
      .regex(CONFIGMAP_NAME, { error: 'expected a ConfigMap name (lowercase letters, digits, - and .)' })
      .max(253)
      .optional(),
  })
  .refine((f) => (f.tag === undefined) !== (f.instanceIds === undefined), {
    error: 'say which managed nodes to audit with exactly one of --tag KEY=VALUE or --instance-ids i-…,mi-…',
  });

/** The settings of `--source aws` from its flags, validated; a bad flag is a CliUsageError naming it. */
export function awsSettings(opts: RunOptions, runId: string): AwsAuditSettings {
  const parsed = AwsFlagsSchema.safeParse(Object.fromEntries(AWS_FLAGS.map((name) => [name, opts[name]])));
  if (!parsed.success) {
    throw new CliUsageError(
      parsed.error.issues.map((i) => (i.path.length > 0 ? `--${kebab(String(i.path[0]))}: ${i.message}` : i.message)).join('\n'),
    );
  }
  const flags = parsed.data;
  // Without --region the SDK's chain decides (AWS_REGION, then the profile's configuration).
  const region = flags.region;
  const target: SsmTarget = flags.tag
    ? { kind: 'tag', key: flags.tag.key, ...(flags.tag.values ? { values: flags.tag.values } : {}) }
    : { kind: 'instanceIds', instanceIds: flags.instanceIds! };
  const kube: AwsAuditSettings['kube'] = flags.kubeconfig
    ? { kind: 'file', path: flags.kubeconfig, ...(flags.context ? { context: flags.context } : {}) }
    : { kind: 'default', ...(flags.context ? { context: flags.context } : {}) };
  return {
    runId,
    ...(region ? { region } : {}),
    target,
    ...(flags.bucket ? { bucket: flags.bucket } : {}),
    document: flags.document,
    ...(flags.ssmEndpoint ? { ssmEndpoint: flags.ssmEndpoint } : {}),
    ...(flags.s3Endpoint ? { s3Endpoint: flags.s3Endpoint } : {}),
    ssmCompliance: opts.ssmCompliance,
    kube,
    ...(flags.rootCaConfigmap ? { rootCaConfigMap: flags.rootCaConfigmap } : {}),
    targets: {
      ssm: {
        document: flags.document,
        ...(flags.tag ? { tag: flags.tag } : { instanceIds: flags.instanceIds }),
        bucket: flags.bucket ?? null,
        ...(flags.ssmEndpoint ? { endpoint: flags.ssmEndpoint } : {}),
      },
      kubernetes: {
        kubeconfig: flags.kubeconfig ?? null,
        context: flags.context ?? null,
        ...(flags.rootCaConfigmap ? { rootCaConfigMap: flags.rootCaConfigmap } : {}),
      },
    },
  };
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}
