import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildKubeConfig } from '../../lib/adapters/kube-config.ts';
import { KubeMeshReader } from '../../lib/adapters/kube-mesh-reader.ts';
import type { Report } from '../../lib/core/report.ts';
import { buildSimFleetAsync, type SimFleet, type SimVm } from '../../sim/fleet.ts';
import { startSimCloud, type SimCloud } from '../../sim/sim-cloud.ts';
import { cli } from '../support/cli.ts';

/**
 * `fleet-audit run --source aws` as a user types it: flags, the SDK's default credential chain from the
 * environment, and endpoint overrides pointing at the simulated SSM endpoint, s3rver and the simulated
 * Kubernetes API.
 */

const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const AWS_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
] as const;
const PADDING = 'padding line of a long journal tail\n'.repeat(900);

let dir: string;
let fleet: SimFleet;
let cloud: SimCloud;
/** A VM whose output is over the 24,000 bytes of an API copy. */
let large: SimVm;
const savedEnv: Partial<Record<(typeof AWS_ENV)[number], string>> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-audit-run-aws-'));
  fleet = await buildSimFleetAsync({ vms: 12, seed: 2, now: NOW });
  large = fleet.vms.find((vm) => !vm.faults.includes('ssm-undeliverable'))!;
  cloud = await startSimCloud({
    fleet,
    ssm: {
      documentName: 'FleetAudit-Diagnostics',
      renderOutput: (vm, rendered) => (vm.instanceId === large.instanceId ? rendered.replace(/( BEGIN logs\n)/, `$1${PADDING}`) : rendered),
    },
  });
});
afterAll(async () => {
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const name of AWS_ENV) {
    savedEnv[name] = process.env[name];
    delete process.env[name];
  }
  // The SDK's default chain finds these, as it would a user's environment; no file or instance metadata is consulted.
  process.env.AWS_ACCESS_KEY_ID = cloud.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = cloud.credentials.secretAccessKey;
  process.env.AWS_CONFIG_FILE = join(dir, 'no-aws-config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'no-aws-credentials');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterEach(() => {
  for (const name of AWS_ENV) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

function awsFlags(overrides: { ssmEndpoint?: string } = {}): string[] {
  return [
    '--source',
    'aws',
    '--region',
    cloud.region,
    '--ssm-endpoint',
    overrides.ssmEndpoint ?? cloud.ssmEndpoint,
    '--s3-endpoint',
    cloud.s3Endpoint,
    '--kubeconfig',
    cloud.kubeconfigPath,
    '--context',
    'sim',
  ];
}

function readReport(runId: string): Report {
  return JSON.parse(readFileSync(join(dir, 'store', runId, 'report.json'), 'utf8')) as Report;
}

describe('fleet-audit run --source aws', () => {
  it('audits the nodes of a tag, output read from the bucket, and records the target and the API calls', async () => {
    const run = await cli(
      ['run', ...awsFlags(), '--tag', 'istio-fleet', '--bucket', cloud.bucket, '--out', join(dir, 'store'), '--run-id', 'by-tag'],
      { now: NOW },
    );
    expect(run.stderr).not.toContain('fleet-audit:');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Fleet audit by-tag \(aws\)/);
    expect(run.stdout).toMatch(/^API calls: \d+ \(.*SSM\.SendCommand 1.*\)$/m);
    const manifest = JSON.parse(readFileSync(join(dir, 'store', 'by-tag', 'evidence', 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      source: 'aws',
      targets: {
        region: cloud.region,
        ssm: { document: 'FleetAudit-Diagnostics', tag: { key: 'istio-fleet' }, bucket: cloud.bucket },
        kubernetes: { kubeconfig: cloud.kubeconfigPath, context: 'sim' },
      },
      apiCalls: expect.objectContaining({ 'SSM.SendCommand': 1, 'Kubernetes.list workloadentries': 1 }),
    });
    const report = readReport('by-tag');
    expect(report.vms.map((vm) => vm.instanceId).sort()).toEqual(fleet.vms.map((vm) => vm.instanceId).sort());
    const collect03 = report.findings.find((f) => f.control === 'COLLECT-03' && f.subject.id === large.instanceId)!;
    expect(collect03.message).not.toContain('cut before its end');
    // Every VM SSM knows gets its findings as compliance items, one per control, the whole list at once.
    const published = fleet.vms.filter((vm) => cloud.endpoints.ssm.compliance.items(vm.instanceId, 'Custom:IstioMeshAudit'));
    expect(run.stdout).toMatch(new RegExp(`^SSM Compliance: ${published.length} VMs published`, 'm'));
    const vm = report.vms.find((v) => v.status === 'NON_COMPLIANT')!;
    const items = cloud.endpoints.ssm.compliance.items(vm.instanceId, 'Custom:IstioMeshAudit')!;
    expect(items.ExecutionSummary.ExecutionId).toBe('by-tag');
    expect(items.Items.some((i) => i.Status === 'NON_COMPLIANT')).toBe(true);
    expect(new Set(items.Items.map((i) => i.Id)).size).toBe(items.Items.length);
  });

  it('--no-ssm-compliance publishes nothing, and is refused for the in-process simulator', async () => {
    const ids = fleet.vms.slice(0, 2).map((vm) => vm.instanceId);
    const before = cloud.endpoints.ssm.stats().requests.PutComplianceItems ?? 0;
    const run = await cli(
      [
        'run',
        ...awsFlags(),
        '--instance-ids',
        ids.join(','),
        '--bucket',
        cloud.bucket,
        '--no-ssm-compliance',
        '--out',
        join(dir, 'store'),
        '--run-id',
        'no-compliance',
      ],
      { now: NOW },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('SSM Compliance');
    expect(cloud.endpoints.ssm.stats().requests.PutComplianceItems ?? 0).toBe(before);
    const sim = await cli(['run', '--no-ssm-compliance', '--out', join(dir, 'store')], { now: NOW });
    expect(sim.code).toBe(2);
    expect(sim.stderr).toContain('--no-ssm-compliance: only for --source aws or sim-aws');
  });

  it('without --bucket reads outputs from GetCommandInvocation, says so, and the report shows the one that was cut', async () => {
    const ids = fleet.vms.slice(0, 6).map((vm) => vm.instanceId);
    if (!ids.includes(large.instanceId)) ids[0] = large.instanceId;
    const run = await cli(['run', ...awsFlags(), '--instance-ids', ids.join(','), '--out', join(dir, 'store'), '--run-id', 'no-bucket'], {
      now: NOW,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('fleet-audit: no --bucket: outputs come from GetCommandInvocation, which cuts them at 24,000 bytes');
    const report = readReport('no-bucket');
    expect(report.vms.map((vm) => vm.instanceId).sort()).toEqual([...ids].sort());
    const collect03 = report.findings.find((f) => f.control === 'COLLECT-03' && f.subject.id === large.instanceId)!;
    expect(collect03).toMatchObject({ status: 'FAIL', message: expect.stringContaining('the output was cut before its end') });
    const manifest = JSON.parse(readFileSync(join(dir, 'store', 'no-bucket', 'evidence', 'manifest.json'), 'utf8')) as {
      apiCalls: Record<string, number>;
      targets: unknown;
    };
    expect(manifest.targets).toMatchObject({ ssm: { instanceIds: ids, bucket: null } });
    expect(manifest.apiCalls['S3.GetObject']).toBeUndefined();
    expect(manifest.apiCalls['SSM.GetCommandInvocation']).toBeGreaterThanOrEqual(ids.length - 1);
  });

  it.each([
    ['no target', [], /exactly one of --tag KEY=VALUE or --instance-ids/],
    ['two targets', ['--tag', 'a=b', '--instance-ids', 'i-0123456789abcdef0'], /exactly one of --tag KEY=VALUE or --instance-ids/],
    ['a tag with an empty key', ['--tag', '=prod'], /^fleet-audit: --tag: expected KEY=VALUE: the key must be/m],
    ['a tag with an empty value', ['--tag', 'env='], /^fleet-audit: --tag: expected KEY=VALUE: each value must be/m],
    [
      'an instance id that is not one',
      ['--instance-ids', 'i-0123456789abcdef0,web-1'],
      /^fleet-audit: --instance-ids: "web-1" is not a managed node id/m,
    ],
    ['no instance id', ['--instance-ids', ' , '], /^fleet-audit: --instance-ids: expected a comma-separated list/m],
    ['a bad bucket name', ['--tag', 'a=b', '--bucket', 'Evidence_Bucket'], /^fleet-audit: --bucket: expected an S3 bucket name/m],
    [
      'an endpoint that is not a URL',
      ['--tag', 'a=b', '--ssm-endpoint', 'localhost:4566'],
      /^fleet-audit: --ssm-endpoint: expected an http:\/\/ or https:\/\/ URL/m,
    ],
    ['a bad region', ['--tag', 'a=b', '--region', 'Frankfurt'], /^fleet-audit: --region: expected an AWS region/m],
    ['a simulator flag', ['--tag', 'a=b', '--vms', '3'], /^fleet-audit: --vms: only for --source sim or sim-aws/m],
    [
      'a root CA ConfigMap name that is not a name',
      ['--tag', 'a=b', '--root-ca-configmap', '../secrets'],
      /^fleet-audit: --root-ca-configmap: expected a ConfigMap name/m,
    ],
  ])('refuses %s with exit 2 and a message naming the flag, before any call', async (_what, flags, message) => {
    const out = join(dir, 'refused');
    const run = await cli(['run', '--source', 'aws', '--region', 'eu-west-1', ...flags, '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses AWS flags for the simulated sources', async () => {
    for (const source of ['sim', 'sim-aws']) {
      const run = await cli(['run', '--source', source, '--tag', 'a=b', '--bucket', 'evidence', '--out', join(dir, 'refused')]);
      expect(run).toMatchObject({ code: 2, stderr: 'fleet-audit: --tag, --bucket: only for --source aws\n' });
    }
  });

  it('needs a region from --region, AWS_REGION or the profile', async () => {
    const run = await cli(['run', '--source', 'aws', '--tag', 'a=b', '--out', join(dir, 'refused')]);
    expect(run).toMatchObject({
      code: 2,
      stderr: 'fleet-audit: no AWS region: pass --region, set AWS_REGION, or set one in the AWS profile\n',
    });
    process.env.AWS_REGION = 'eu-central-1';
    const withEnv = await cli([
      'run',
      '--source',
      'aws',
      '--tag',
      'a=b',
      '--kubeconfig',
      join(dir, 'missing-kubeconfig'),
      '--out',
      join(dir, 'refused'),
    ]);
    expect(withEnv.stderr).not.toContain('no AWS region');
  });

  it('refuses a kubeconfig it cannot load, or a context it does not have, before any AWS call', async () => {
    const missing = await cli([
      'run',
      '--source',
      'aws',
      '--region',
      'eu-west-1',
      '--tag',
      'a=b',
      '--kubeconfig',
      join(dir, 'missing-kubeconfig'),
      '--out',
      join(dir, 'refused'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^fleet-audit: cannot use the kubeconfig: cannot load the kubeconfig .*missing-kubeconfig/);
    const context = await cli([
      'run',
      '--source',
      'aws',
      '--region',
      'eu-west-1',
      '--tag',
      'a=b',
      '--kubeconfig',
      cloud.kubeconfigPath,
      '--context',
      'nope',
      '--out',
      join(dir, 'refused'),
    ]);
    expect(context.code).toBe(2);
    expect(context.stderr).toContain('has no context named "nope"');
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  });
});

describe('fleet-audit run --source aws when the cluster cannot be read in full', () => {
  let small: SimFleet;
  let degraded: SimCloud;

  beforeAll(async () => {
    small = await buildSimFleetAsync({ vms: 3, seed: 9, now: NOW });
    degraded = await startSimCloud({
      fleet: small,
      kubeFaults: { forbidden: [{ resource: 'workloadgroups' }], replicaDown: [small.istiods[0]!] },
    });
  });
  afterAll(async () => {
    await degraded?.close();
  });

  it('keeps what failed in cluster/problems.json and audits the rest', async () => {
    const run = await cli(
      [
        'run',
        '--source',
        'aws',
        '--region',
        degraded.region,
        '--ssm-endpoint',
        degraded.ssmEndpoint,
        '--s3-endpoint',
        degraded.s3Endpoint,
        '--bucket',
        degraded.bucket,
        '--kubeconfig',
        degraded.kubeconfigPath,
        '--tag',
        degraded.tagKey,
        '--out',
        join(dir, 'store'),
        '--run-id',
        'degraded',
      ],
      { now: NOW },
    );
    expect(run.code).toBe(0);
    const cluster = join(dir, 'store', 'degraded', 'evidence', 'cluster');
    const problems = JSON.parse(readFileSync(join(cluster, 'problems.json'), 'utf8')) as Array<{
      part: string;
      kind: string;
      target?: string;
    }>;
    expect(problems.map((p) => [p.part, p.kind, p.target])).toEqual([
      ['workloadgroups', 'forbidden', undefined],
      ['syncz', 'port-forward-refused', small.istiods[0]],
    ]);
    expect(existsSync(join(cluster, 'workloadgroups.json'))).toBe(false);
    expect(existsSync(join(cluster, 'workloadentries.json'))).toBe(true);
    expect(readReport('degraded').vms).toHaveLength(3);
  });

  it('has KubeMeshReader.readCluster, the port the use cases call, carry the same problems', async () => {
    const reader = new KubeMeshReader({ kubeConfig: (await buildKubeConfig({ kind: 'file', path: degraded.kubeconfigPath })).kubeConfig });
    const evidence = await reader.readCluster([]);
    const { problems } = await reader.readClusterWithProblems([]);
    expect(evidence.problems).toEqual(problems);
    expect(problems.map((p) => p.part)).toEqual(['workloadgroups', 'syncz']);
  });
});

describe('fleet-audit run --source aws when AWS refuses', () => {
  let proxy: Server;
  let proxyEndpoint: string;

  beforeAll(async () => {
    // The real endpoint, except that SendCommand is refused as IAM refuses it.
    proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.headers['x-amz-target'] === 'AmazonSSM.SendCommand') {
        req.resume();
        const body = JSON.stringify({
          __type: 'AccessDeniedException',
          Message:
            'User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: ssm:SendCommand on resource: arn:aws:ssm:us-east-1:123456789012:document/FleetAudit-Diagnostics because no identity-based policy allows the ssm:SendCommand action',
        });
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      const upstream = new URL(cloud.ssmEndpoint);
      const forward = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyEndpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  });

  it('stops at AccessDenied on SendCommand with exit 2, naming the call and the code, and writes no report', async () => {
    const run = await cli(
      [
        'run',
        ...awsFlags({ ssmEndpoint: proxyEndpoint }),
        '--tag',
        'istio-fleet',
        '--bucket',
        cloud.bucket,
        '--out',
        join(dir, 'store'),
        '--run-id',
        'denied',
      ],
      { now: NOW },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^fleet-audit: SSM SendCommand failed: AccessDeniedException: User: .* is not authorized to perform: ssm:SendCommand/,
    );
    expect(run.stderr).toContain(
      `The audit stopped and wrote no report. The evidence collected so far is in ${join(dir, 'store', 'denied')}/evidence.`,
    );
    expect(existsSync(join(dir, 'store', 'denied', 'report.json'))).toBe(false);
    expect(run.stdout).toBe('');
  });

  it('stops at a document SSM does not know with exit 2', async () => {
    const run = await cli(
      [
        'run',
        ...awsFlags(),
        '--tag',
        'istio-fleet',
        '--document',
        'FleetAudit-Missing',
        '--out',
        join(dir, 'store'),
        '--run-id',
        'no-document',
      ],
      { now: NOW },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^fleet-audit: SSM SendCommand failed: InvalidDocument: Document FleetAudit-Missing does not exist/m);
    expect(existsSync(join(dir, 'store', 'no-document', 'report.json'))).toBe(false);
  });

  it('stops with exit 2 when the default chain finds no credentials, naming the first call', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const run = await cli(['run', ...awsFlags(), '--tag', 'istio-fleet', '--out', join(dir, 'store'), '--run-id', 'no-credentials'], {
      now: NOW,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^fleet-audit: SSM DescribeInstanceInformation failed: CredentialsProviderError: /m);
    expect(existsSync(join(dir, 'store', 'no-credentials', 'report.json'))).toBe(false);
  });
});
