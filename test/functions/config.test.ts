import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  FleetConfigSchema,
  MeshConfigSchema,
  once,
  parseConfig,
  parseMeshConfig,
  StorageConfigSchema,
} from '../../functions/shared/config.ts';
import { finalizeDepsFromEnv } from '../../functions/shared/finalize-deps.ts';
import { captureEmf } from './support/emf.ts';

/** The functions' configuration from environment variables. */

const STORAGE = { AWS_REGION: 'eu-west-1', AUDIT_BUCKET: 'evidence', AUDIT_TABLE: 'runs' };
const MESH = {
  EKS_CLUSTER_NAME: 'mesh',
  EKS_CLUSTER_ENDPOINT: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
  EKS_CLUSTER_CA: 'LS0tLS1CRUdJTi\nBDRVJU==',
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the configuration of the functions', () => {
  it('reads the storage, with AES256 unless a KMS key is named', () => {
    expect(parseConfig(StorageConfigSchema, STORAGE)).toEqual({
      region: 'eu-west-1',
      bucket: 'evidence',
      table: 'runs',
      encryption: { kind: 'AES256' },
      retentionDays: 400,
      toolVersion: 'unknown',
    });
    expect(
      parseConfig(StorageConfigSchema, {
        ...STORAGE,
        AUDIT_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
        AUDIT_RETENTION_DAYS: '30',
      }),
    ).toMatchObject({
      encryption: { kind: 'aws:kms', keyId: 'arn:aws:kms:eu-west-1:123456789012:key/abc' },
      retentionDays: 30,
    });
    // An empty variable, as serverless.yml sets it when a parameter is left empty, means "not set".
    expect(parseConfig(StorageConfigSchema, { ...STORAGE, AUDIT_KMS_KEY_ID: '' }).encryption).toEqual({ kind: 'AES256' });
  });

  it('names every variable that is missing or malformed', () => {
    expect(() => parseConfig(StorageConfigSchema, {})).toThrow(
      new ConfigError('the function is not configured: AWS_REGION is not set; AUDIT_BUCKET is not set; AUDIT_TABLE is not set'),
    );
    expect(() => parseConfig(StorageConfigSchema, { ...STORAGE, AUDIT_BUCKET: ' ', AUDIT_RETENTION_DAYS: 'forever' })).toThrow(
      'the function is not configured: AUDIT_BUCKET is empty; AUDIT_RETENTION_DAYS (parameter retentionDays) must be a whole number',
    );
    expect(() => parseConfig(MeshConfigSchema, { ...MESH, EKS_CLUSTER_ENDPOINT: 'http://plain.example', EKS_CLUSTER_NAME: '' })).toThrow(
      'the function is not configured: EKS_CLUSTER_NAME (parameter eksClusterName) is empty; EKS_CLUSTER_ENDPOINT (parameter eksClusterEndpoint) must be an https URL',
    );
    expect(() => parseConfig(FleetConfigSchema, { TARGET_TAG_KEY: 'istio-vm', SSM_EXECUTION_TIMEOUT_SECONDS: '7200' })).toThrow(
      'the function is not configured: SSM_DOCUMENT_NAME is not set; SSM_EXECUTION_TIMEOUT_SECONDS must be at most 3600',
    );
  });

  it('names the stage parameter to fix for each malformed value that reached a function', () => {
    const fleet = { SSM_DOCUMENT_NAME: 'doc', TARGET_TAG_KEY: 'istio-vm' };
    expect(() => parseConfig(FleetConfigSchema, { ...fleet, TARGET_TAG_KEY: 'istio vm?' })).toThrow(
      'the function is not configured: TARGET_TAG_KEY (parameter targetTagKey) is not an EC2 tag key',
    );
    expect(() => parseConfig(FleetConfigSchema, { ...fleet, TARGET_TAG_VALUES: 'prod,dev#2' })).toThrow(
      'TARGET_TAG_VALUES (parameter targetTagValues) holds a value that is not an EC2 tag value',
    );
    expect(() => parseConfig(StorageConfigSchema, { ...STORAGE, AUDIT_KMS_KEY_ID: 'my key' })).toThrow(
      'AUDIT_KMS_KEY_ID (parameter kmsKeyArn) must be a KMS key ARN, alias or id',
    );
    expect(() => parseConfig(StorageConfigSchema, { ...STORAGE, AUDIT_RETENTION_DAYS: '0' })).toThrow(
      'AUDIT_RETENTION_DAYS (parameter retentionDays) must be at least 1',
    );
    expect(() => parseConfig(MeshConfigSchema, { ...MESH, EKS_CLUSTER_NAME: 'mesh.prod', EKS_CLUSTER_CA: 'not base64!' })).toThrow(
      'the function is not configured: EKS_CLUSTER_NAME (parameter eksClusterName) is not an EKS cluster name; EKS_CLUSTER_CA (parameter eksClusterCa) must be base64 (certificateAuthority.data)',
    );
    // What the template gives by default passes.
    expect(parseConfig(FleetConfigSchema, { ...fleet, TARGET_TAG_VALUES: '' }).tag).toEqual({ key: 'istio-vm' });
  });

  it('derives the collection deadline from the SSM timeouts unless it is given', () => {
    const fleet = parseConfig(FleetConfigSchema, { SSM_DOCUMENT_NAME: 'doc', TARGET_TAG_KEY: 'istio-vm', TARGET_TAG_VALUES: ' a, b ,' });
    expect(fleet).toEqual({
      documentName: 'doc',
      tag: { key: 'istio-vm', values: ['a', 'b'] },
      executionTimeoutSeconds: 300,
      deliveryTimeoutSeconds: 600,
      collectForMs: (300 + 600 + 300) * 1000,
    });
    expect(
      parseConfig(FleetConfigSchema, { SSM_DOCUMENT_NAME: 'doc', TARGET_TAG_KEY: 'k', TARGET_TAG_VALUES: '', AUDIT_COLLECT_MINUTES: '45' }),
    ).toMatchObject({ tag: { key: 'k' }, collectForMs: 45 * 60_000 });
    expect(parseConfig(MeshConfigSchema, MESH)).toEqual({
      clusterName: 'mesh',
      endpoint: MESH.EKS_CLUSTER_ENDPOINT,
      caData: 'LS0tLS1CRUdJTiBDRVJU==',
      istioNamespace: 'istio-system',
    });
  });

  it("takes the root-of-trust ConfigMap's name when one is set, and refuses one that is not a name", () => {
    expect(parseConfig(MeshConfigSchema, { ...MESH, ROOT_CA_CONFIGMAP: 'mesh-trust-bundle' })).toMatchObject({
      rootCaConfigMap: 'mesh-trust-bundle',
    });
    expect(parseConfig(MeshConfigSchema, { ...MESH, ROOT_CA_CONFIGMAP: '' })).not.toHaveProperty('rootCaConfigMap');
    expect(() => parseConfig(MeshConfigSchema, { ...MESH, ROOT_CA_CONFIGMAP: '../secrets' })).toThrow(
      /ROOT_CA_CONFIGMAP must be a ConfigMap name/,
    );
  });

  it('reads no cluster when the default parameters leave the three EKS variables empty, and half a cluster as a mistake', () => {
    const unset = { EKS_CLUSTER_NAME: '', EKS_CLUSTER_ENDPOINT: '', EKS_CLUSTER_CA: '' };
    expect(parseMeshConfig(unset)).toBeUndefined();
    expect(parseMeshConfig({})).toBeUndefined();
    expect(parseMeshConfig({ ...unset, ...MESH })).toMatchObject({ clusterName: 'mesh' });
    expect(() => parseMeshConfig({ ...unset, EKS_CLUSTER_NAME: 'mesh' })).toThrow(
      new ConfigError(
        'the function is not configured: EKS_CLUSTER_ENDPOINT (parameter eksClusterEndpoint) is empty; EKS_CLUSTER_CA (parameter eksClusterCa) is empty',
      ),
    );
  });

  it('composes the finalizing functions without a mesh when no cluster is configured, and with one when it is', () => {
    // The environment infra/environment.yml gives the functions with the default parameters.
    const env = {
      ...STORAGE,
      SSM_DOCUMENT_NAME: 'fleet-audit-dev-diagnostics',
      TARGET_TAG_KEY: 'istio-vm',
      TARGET_TAG_VALUES: '',
      EKS_CLUSTER_NAME: '',
      EKS_CLUSTER_ENDPOINT: '',
      EKS_CLUSTER_CA: '',
      AUDIT_KMS_KEY_ID: '',
      AUDIT_RETENTION_DAYS: '400',
    };
    const without = finalizeDepsFromEnv(env);
    expect(without.audit.mesh).toBeUndefined();
    without.close();
    const withCluster = finalizeDepsFromEnv({ ...env, ...MESH });
    expect(withCluster.audit.mesh).toBeTypeOf('function');
    withCluster.close();
  });

  it('makes a handler fail with the missing variables named when the environment does not configure it', async () => {
    for (const name of ['AWS_REGION', 'AUDIT_BUCKET', 'AUDIT_TABLE']) vi.stubEnv(name, undefined);
    const { handler } = await import('../../functions/sweep.ts');
    const emf = captureEmf();
    try {
      await expect(handler({ trigger: 'sweep' }, { awsRequestId: 'r' })).rejects.toThrow(
        'the function is not configured: AWS_REGION is not set; AUDIT_BUCKET is not set; AUDIT_TABLE is not set',
      );
    } finally {
      emf.stop();
    }
    // Counted as a configuration error, in the default namespace.
    expect(emf.records).toEqual([expect.objectContaining({ errorKind: 'config', Errors: 1, service: 'fleet-audit' })]);
    expect(emf.records[0]!._aws.CloudWatchMetrics[0]!.Namespace).toBe('FleetAudit');
  });

  it('makes dependencies once per container', async () => {
    let made = 0;
    const deps = once(async () => ++made);
    expect(await Promise.all([deps(), deps(), deps()])).toEqual([1, 1, 1]);
  });
});
