import { z } from 'zod';
import { ConfigurationError } from '../../lib/shared/errors.ts';
import { AWS_REGION, isConfigMapName } from '../../lib/shared/identifiers.ts';

/**
 * The functions' configuration, from environment variables set by serverless.yml. Each function parses
 * the groups it needs once, at its first invocation; a missing or malformed variable is named.
 */

/** The environment does not configure a function; the message names every variable at fault. */
export class ConfigError extends ConfigurationError {
  override name = 'ConfigError';
}

/**
 * The stage parameter (infra/params.yml) each variable comes from, named in messages: the operator fixes the
 * parameter, not the variable. CloudFormation refuses most malformed values first (infra/resources/conditions.yml).
 */
const PARAMETER_OF: Record<string, string> = {
  TARGET_TAG_KEY: 'targetTagKey',
  TARGET_TAG_VALUES: 'targetTagValues',
  EKS_CLUSTER_NAME: 'eksClusterName',
  EKS_CLUSTER_ENDPOINT: 'eksClusterEndpoint',
  EKS_CLUSTER_CA: 'eksClusterCa',
  AUDIT_KMS_KEY_ID: 'kmsKeyArn',
  AUDIT_RETENTION_DAYS: 'retentionDays',
  METRICS_NAMESPACE: 'metricsNamespace',
  WAIVERS_KEY: 'waiversKey',
  SSM_COMPLIANCE: 'ssmCompliance',
};

/** `EKS_CLUSTER_CA (parameter eksClusterCa)`, or the variable alone when no parameter sets it. */
export function variableLabel(name: string): string {
  const parameter = PARAMETER_OF[name];
  return parameter ? `${name} (parameter ${parameter})` : name;
}

const required = (name: string) =>
  z
    .string({ error: `${variableLabel(name)} is not set` })
    .trim()
    .min(1, { error: `${variableLabel(name)} is empty` });
const wholeNumber = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: `${variableLabel(name)} must be a whole number` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `${variableLabel(name)} must be at least ${min}` })
        .max(max, { error: `${variableLabel(name)} must be at most ${max}` }),
    )
    .optional()
    .transform((n) => n ?? fallback);

/** EC2's tag keys and values (as infra/iam/target-tag-condition.cjs checks them when the template is made). */
const TAG_KEY = /^[\p{L}\p{N} +\-=._:/@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{N} +\-=._:/@]{0,256}$/u;
const KMS_KEY = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|alias\/[A-Za-z0-9/_-]+|[A-Za-z0-9-]{36})$/;

export const StorageConfigSchema = z
  .object({
    AWS_REGION: required('AWS_REGION').regex(AWS_REGION, { error: 'AWS_REGION is not an AWS region' }),
    AUDIT_BUCKET: required('AUDIT_BUCKET'),
    AUDIT_TABLE: required('AUDIT_TABLE'),
    /** A KMS key (id, ARN or alias) for aws:kms encryption; AES256 (S3-managed keys) without it. */
    AUDIT_KMS_KEY_ID: z
      .string()
      .trim()
      .refine((v) => v === '' || KMS_KEY.test(v), { error: `${variableLabel('AUDIT_KMS_KEY_ID')} must be a KMS key ARN, alias or id` })
      .optional(),
    AUDIT_RETENTION_DAYS: wholeNumber('AUDIT_RETENTION_DAYS', 1, 3650, 400),
    FLEET_AUDIT_VERSION: z.string().trim().optional(),
  })
  .transform((env) => ({
    region: env.AWS_REGION,
    bucket: env.AUDIT_BUCKET,
    table: env.AUDIT_TABLE,
    encryption: env.AUDIT_KMS_KEY_ID ? ({ kind: 'aws:kms', keyId: env.AUDIT_KMS_KEY_ID } as const) : ({ kind: 'AES256' } as const),
    retentionDays: env.AUDIT_RETENTION_DAYS,
    toolVersion: env.FLEET_AUDIT_VERSION || 'unknown',
  }));
export type StorageConfig = z.infer<typeof StorageConfigSchema>;

export const FleetConfigSchema = z
  .object({
    SSM_DOCUMENT_NAME: required('SSM_DOCUMENT_NAME'),
    TARGET_TAG_KEY: required('TARGET_TAG_KEY').refine((v) => v === '' || TAG_KEY.test(v), {
      error: `${variableLabel('TARGET_TAG_KEY')} is not an EC2 tag key`,
    }),
    /** Comma-separated; any value of the tag when empty. */
    TARGET_TAG_VALUES: z
      .string()
      .refine((v) => v.split(',').every((value) => TAG_VALUE.test(value.trim())), {
        error: `${variableLabel('TARGET_TAG_VALUES')} holds a value that is not an EC2 tag value`,
      })
      .optional(),
    SSM_EXECUTION_TIMEOUT_SECONDS: wholeNumber('SSM_EXECUTION_TIMEOUT_SECONDS', 1, 3600, 300),
    SSM_DELIVERY_TIMEOUT_SECONDS: wholeNumber('SSM_DELIVERY_TIMEOUT_SECONDS', 30, 2_592_000, 600),
    /** After this, a run is finalized with what it has (default: both timeouts and five minutes). */
    AUDIT_COLLECT_MINUTES: wholeNumber('AUDIT_COLLECT_MINUTES', 1, 24 * 60, 0),
  })
  .transform((env) => {
    const values = (env.TARGET_TAG_VALUES ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return {
      documentName: env.SSM_DOCUMENT_NAME,
      tag: { key: env.TARGET_TAG_KEY, ...(values.length > 0 ? { values } : {}) },
      executionTimeoutSeconds: env.SSM_EXECUTION_TIMEOUT_SECONDS,
      deliveryTimeoutSeconds: env.SSM_DELIVERY_TIMEOUT_SECONDS,
      collectForMs:
        env.AUDIT_COLLECT_MINUTES > 0
          ? env.AUDIT_COLLECT_MINUTES * 60_000
          : (env.SSM_EXECUTION_TIMEOUT_SECONDS + env.SSM_DELIVERY_TIMEOUT_SECONDS + 300) * 1000,
    };
  });
export type FleetConfig = z.infer<typeof FleetConfigSchema>;

export const MeshConfigSchema = z
  .object({
    EKS_CLUSTER_NAME: required('EKS_CLUSTER_NAME').regex(/^([0-9A-Za-z][0-9A-Za-z_-]{0,99})?$/, {
      error: `${variableLabel('EKS_CLUSTER_NAME')} is not an EKS cluster name`,
    }),
    EKS_CLUSTER_ENDPOINT: required('EKS_CLUSTER_ENDPOINT').pipe(
      z.url({ protocol: /^https$/, error: `${variableLabel('EKS_CLUSTER_ENDPOINT')} must be an https URL` }),
    ),
    /** Base64 PEM, as `aws eks describe-cluster` gives certificateAuthority.data. */
    EKS_CLUSTER_CA: required('EKS_CLUSTER_CA').regex(/^[A-Za-z0-9+/=\s]*$/, {
      error: `${variableLabel('EKS_CLUSTER_CA')} must be base64 (certificateAuthority.data)`,
    }),
    ISTIO_NAMESPACE: z.string().trim().optional(),
    /** The mesh's root-of-trust ConfigMap, when istiod's own setting (PILOT_CA_CERT_CONFIGMAP) is not to be asked. */
    ROOT_CA_CONFIGMAP: z
      .string()
      .trim()
      .refine((name) => name === '' || isConfigMapName(name), { error: 'ROOT_CA_CONFIGMAP must be a ConfigMap name' })
      .optional(),
  })
  .transform((env) => ({
    clusterName: env.EKS_CLUSTER_NAME,
    endpoint: env.EKS_CLUSTER_ENDPOINT,
    caData: env.EKS_CLUSTER_CA.replace(/\s+/g, ''),
    istioNamespace: env.ISTIO_NAMESPACE || 'istio-system',
    ...(env.ROOT_CA_CONFIGMAP ? { rootCaConfigMap: env.ROOT_CA_CONFIGMAP } : {}),
  }));
export type MeshConfig = z.infer<typeof MeshConfigSchema>;

export const MetricsConfigSchema = z
  .object({
    /** A CloudWatch namespace of our own: AWS/ is reserved for AWS's services. */
    METRICS_NAMESPACE: z
      .string()
      .trim()
      .regex(/^(?!AWS\/)[A-Za-z0-9._/#:-]{1,255}$/, {
        error: `${variableLabel('METRICS_NAMESPACE')} must be a CloudWatch namespace (letters, digits, . _ / # : -), not under AWS/`,
      })
      .optional(),
  })
  .transform((env) => ({ namespace: env.METRICS_NAMESPACE || 'FleetAudit', serviceName: 'fleet-audit' }));
export type MetricsConfig = z.infer<typeof MetricsConfigSchema>;

/** What the finalizing functions do beyond the report: the waivers they apply and whether they publish to SSM Compliance. */
export const ReportingConfigSchema = z
  .object({
    /** The waivers object in the audit bucket, under config/ (the only prefix the functions may read it from); none when empty. */
    WAIVERS_KEY: z
      .string()
      .trim()
      .regex(/^(config\/[A-Za-z0-9._/-]{1,200})?$/, {
        error: `${variableLabel('WAIVERS_KEY')} must be an object key under config/ (letters, digits, . _ / -) or empty`,
      })
      .optional(),
    SSM_COMPLIANCE: z.enum(['true', 'false'], { error: `${variableLabel('SSM_COMPLIANCE')} must be true or false` }).optional(),
  })
  .transform((env) => ({ ...(env.WAIVERS_KEY ? { waiversKey: env.WAIVERS_KEY } : {}), ssmCompliance: env.SSM_COMPLIANCE !== 'false' }));
export type ReportingConfig = z.infer<typeof ReportingConfigSchema>;

const MESH_VARIABLES = ['EKS_CLUSTER_NAME', 'EKS_CLUSTER_ENDPOINT', 'EKS_CLUSTER_CA'] as const;

/**
 * The mesh's cluster, or undefined when none is configured (the three EKS variables empty, as the default
 * parameters leave them): the audit then checks the hosts and skips the mesh controls. One of them set
 * without the others is a mistake, named as such.
 */
export function parseMeshConfig(env: Record<string, string | undefined>): MeshConfig | undefined {
  const configured = MESH_VARIABLES.some((name) => (env[name] ?? '').trim() !== '');
  return configured ? parseConfig(MeshConfigSchema, env) : undefined;
}

/** Parses one group of variables; throws ConfigError naming every variable that is missing or malformed. */
export function parseConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => issue.message);
  throw new ConfigError(`the function is not configured: ${[...new Set(problems)].join('; ')}`);
}

/** Memoizes an asynchronous factory, so configuration is parsed and clients are made once per container. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}
