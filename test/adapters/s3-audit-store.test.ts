import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAuditStore } from '../../lib/adapters/local-audit-store.ts';
import { S3AuditStore } from '../../lib/adapters/s3-audit-store.ts';
import type { EvidenceBundle } from '../../lib/core/evidence-bundle.ts';
import type { RunStorage } from '../../lib/ports/audit-store.ts';
import { S3RVER_CREDENTIALS, startS3Server, type SimS3Server } from '../../sim/s3-server.ts';
import { buildBundle } from '../support/bundle-builder.ts';

/** The S3 store against s3rver, with the real SDK client, and checked against the local store. */

const BUCKET = 'fleet-audit-evidence';
let s3: SimS3Server;
let client: S3Client;
let dir: string;

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET] });
  client = new S3Client({
    region: 'eu-west-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    maxAttempts: 1,
  });
  dir = await mkdtemp(join(tmpdir(), 'fleet-audit-s3-store-'));
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function store(overrides: { prefix?: string; kms?: boolean; readConcurrency?: number } = {}): S3AuditStore {
  return new S3AuditStore({
    bucket: BUCKET,
    client,
    ...(overrides.prefix === undefined ? {} : { prefix: overrides.prefix }),
    encryption: overrides.kms ? { kind: 'aws:kms', keyId: 'alias/fleet-audit' } : { kind: 'AES256' },
    ...(overrides.readConcurrency === undefined ? {} : { readConcurrency: overrides.readConcurrency }),
  });
}

const VMS = ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'mi-0123456789abcdef0'];

function sampleBundle(): EvidenceBundle {
  const bundle = buildBundle({ vms: VMS.map((instanceId) => ({ instanceId })), syncz: { 'istiod-a': [], 'istiod-b': [] } });
  bundle.cluster!.rootCa = {
    payments: { metadata: { name: 'istio-ca-root-cert', namespace: 'payments' }, data: { 'root-cert.pem': 'PEM' } },
  };
  bundle.cluster!.problems = [{ part: 'syncz', target: 'istiod-c', call: 'portforward', kind: 'timeout', message: 'no answer' }];
  return bundle;
}

async function writeBundle(run: RunStorage, bundle: EvidenceBundle): Promise<void> {
  await run.evidence.writeManifest(bundle.manifest);
  await run.evidence.writeInventory(bundle.inventory);
  for (const invocation of Object.values(bundle.invocations)) await run.evidence.writeInvocation(invocation);
  if (bundle.cluster) await run.evidence.writeCluster(bundle.cluster);
}

async function objectText(key: string): Promise<{ status: number; body: string; sse: string | null }> {
  const response = await fetch(`${s3.endpoint}/${BUCKET}/${key}`);
  return { status: response.status, body: await response.text(), sse: response.headers.get('x-amz-server-side-encryption') };
}

async function putRaw(key: string, body: string): Promise<void> {
  await s3.writer.put(BUCKET, key, body);
}

describe('S3AuditStore against s3rver', () => {
  it('stores a bundle in the local layout and reads back exactly what the local store reads back', async () => {
    const bundle = sampleBundle();
    const run = await store({ prefix: 'audit/' }).openRun('run-layout');
    expect(run.location).toBe(`s3://${BUCKET}/audit/runs/run-layout/`);
    await writeBundle(run, bundle);
    await run.reports.writeArtifact({ name: 'report.json', contentType: 'application/json', body: '{"x":1}\n' });

    const local = await new LocalAuditStore(dir).openRun('run-layout');
    await writeBundle(local, bundle);

    const fromS3 = await run.evidence.readBundle();
    expect(fromS3).toEqual(await local.evidence.readBundle());
    expect(Object.keys(fromS3.invocations).sort()).toEqual([...VMS].sort());

    const manifest = await objectText('audit/runs/run-layout/evidence/manifest.json');
    expect(manifest.status).toBe(200);
    expect(JSON.parse(manifest.body)).toEqual(bundle.manifest);
    for (const key of [
      'inventory.json',
      'invocations/mi-0123456789abcdef0.json',
      'cluster/workloadentries.json',
      'cluster/syncz/istiod-b.json',
      'cluster/root-ca/payments.json',
      'cluster/problems.json',
    ]) {
      expect((await objectText(`audit/runs/run-layout/evidence/${key}`)).status, key).toBe(200);
    }
    expect((await objectText('audit/runs/run-layout/report.json')).body).toBe('{"x":1}\n');
  });

  it('asks for server-side encryption on every write, AES256 or KMS as configured', async () => {
    const seen: Array<{ key: string | undefined; sse: unknown; kmsKey: unknown; bucketKey: unknown }> = [];
    const spy = new S3Client({ region: 'eu-west-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    spy.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Key?: string; ServerSideEncryption?: unknown; SSEKMSKeyId?: unknown; BucketKeyEnabled?: unknown };
        if ((args.input as { Body?: unknown }).Body !== undefined)
          seen.push({ key: input.Key, sse: input.ServerSideEncryption, kmsKey: input.SSEKMSKeyId, bucketKey: input.BucketKeyEnabled });
        return next(args);
      },
      { step: 'initialize', name: 'recordEncryption' },
    );
    try {
      const kms = new S3AuditStore({ bucket: BUCKET, client: spy, encryption: { kind: 'aws:kms', keyId: 'alias/fleet-audit' } });
      const run = await kms.openRun('run-kms');
      await run.evidence.writeManifest(sampleBundle().manifest);
      await run.reports.writeArtifact({ name: 'report.html', contentType: 'text/html; charset=utf-8', body: '<html></html>' });
      const aes = new S3AuditStore({ bucket: BUCKET, client: spy, encryption: { kind: 'AES256' } });
      await (await aes.openRun('run-aes')).evidence.writeManifest(sampleBundle().manifest);
    } finally {
      spy.destroy();
    }
    expect(seen).toEqual([
      { key: 'runs/run-kms/evidence/manifest.json', sse: 'aws:kms', kmsKey: 'alias/fleet-audit', bucketKey: true },
      { key: 'runs/run-kms/report.html', sse: 'aws:kms', kmsKey: 'alias/fleet-audit', bucketKey: true },
      { key: 'runs/run-aes/evidence/manifest.json', sse: 'AES256', kmsKey: undefined, bucketKey: undefined },
    ]);
  });

  it('validates names exactly like the local store: nothing climbs out of the run', async () => {
    const s = store();
    await expect(s.openRun('../escape')).rejects.toThrow('run id "../escape" is not a safe S3 key segment');
    await expect(s.resumeRun('a/b')).rejects.toThrow('is not a safe S3 key segment');
    const run = await s.openRun('run-names');
    await expect(run.evidence.writeInvocation({ InstanceId: '../../x', Status: 'Success' })).rejects.toThrow(
      'refusing to store an invocation for instance id "../../x": not an SSM managed node id',
    );
    await expect(run.evidence.writeCluster({ syncz: { '../pod': [] }, rootCa: {} })).rejects.toThrow(
      'refusing to store syncz for pod name "../pod"',
    );
    await expect(run.evidence.writeCluster({ syncz: {}, rootCa: { 'Bad/NS': {} } })).rejects.toThrow(
      'refusing to store a root CA for namespace "Bad/NS"',
    );
    await expect(run.reports.writeArtifact({ name: '../report.json', contentType: 'application/json', body: '{}' })).rejects.toThrow(
      'refusing to store a report named "../report.json"',
    );
    // A refused cluster part stores nothing of itself.
    expect((await objectText('runs/run-names/evidence/cluster/workloadentries.json')).status).toBe(404);
  });

  it('refuses to open a run id that is stored already, and resumes it instead', async () => {
    const s = store();
    const run = await s.openRun('run-twice');
    await run.evidence.writeManifest(sampleBundle().manifest);
    await expect(s.openRun('run-twice')).rejects.toThrow(`s3://${BUCKET}/runs/run-twice/: a run with this id is already stored`);
    const resumed = await s.resumeRun('run-twice');
    await resumed.evidence.writeInvocation({ InstanceId: VMS[0]!, Status: 'Success', StandardOutputContent: '' });
    await resumed.evidence.writeInvocation({ InstanceId: VMS[2]!, Status: 'Failed', StatusDetails: 'Undeliverable' });
    expect([...(await resumed.storedInvocations())].sort()).toEqual([VMS[0], VMS[2]].sort());
    expect(await (await s.resumeRun('run-never')).storedInvocations()).toEqual(new Set());
  });

  it('keeps a mesh that gave nothing apart from a mesh never read', async () => {
    const s = store();
    const read = await s.openRun('run-empty-cluster');
    await read.evidence.writeManifest(sampleBundle().manifest);
    await read.evidence.writeCluster({ syncz: {}, rootCa: {} });
    expect((await read.evidence.readBundle()).cluster).toEqual({ syncz: {}, rootCa: {} });
    const never = await s.openRun('run-no-cluster');
    await never.evidence.writeManifest(sampleBundle().manifest);
    expect((await never.evidence.readBundle()).cluster).toBeUndefined();
  });

  it('reads a large bundle with bounded concurrency, every invocation once', async () => {
    let inFlight = 0;
    let most = 0;
    let gets = 0;
    const counting = new S3Client({ region: 'eu-west-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    counting.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'GetObjectCommand') return next(args);
        gets++;
        most = Math.max(most, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize', name: 'countInFlight' },
    );
    try {
      const s = new S3AuditStore({ bucket: BUCKET, client: counting, encryption: { kind: 'AES256' }, readConcurrency: 4 });
      const ids = Array.from({ length: 60 }, (_, i) => `i-${(0x1000_0000 + i).toString(16)}aaaaaaaaa`);
      const bundle = buildBundle({ vms: ids.map((instanceId) => ({ instanceId })) });
      const run = await s.openRun('run-large');
      await writeBundle(run, bundle);
      const back = await run.evidence.readBundle();
      expect(Object.keys(back.invocations).sort()).toEqual([...ids].sort());
    } finally {
      counting.destroy();
    }
    // The manifest, the inventory, 60 invocations and the cluster's files present: nothing read twice.
    expect(gets).toBe(1 + 1 + 60 + 3 + 1);
    expect(most).toBeLessThanOrEqual(4);
    expect(most).toBeGreaterThan(1);
  });

  describe('names the object at fault when a stored bundle is malformed', () => {
    async function brokenRun(runId: string, key: string, body: string): Promise<RunStorage> {
      const run = await store().openRun(runId);
      await writeBundle(run, sampleBundle());
      await putRaw(`runs/${runId}/evidence/${key}`, body);
      return run;
    }

    it.each([
      [
        'an invocation that is not JSON',
        'invocations/i-0a1b2c3d4e5f60001.json',
        '{"InstanceId": "i-',
        /invocations\/i-0a1b2c3d4e5f60001\.json: is not valid JSON/,
      ],
      [
        'an invocation of another instance',
        'invocations/i-0a1b2c3d4e5f60002.json',
        '{"InstanceId": "i-0a1b2c3d4e5f60009", "Status": "Success"}',
        /invocations\/i-0a1b2c3d4e5f60002\.json: holds the InstanceId of another VM than its name says/,
      ],
      [
        'an unknown bundleVersion',
        'manifest.json',
        '{"bundleVersion": 2, "runId": "x"}',
        /manifest\.json: bundleVersion 2 is not supported \(this tool reads bundleVersion 1\)/,
      ],
      [
        'an inventory of the wrong shape',
        'inventory.json',
        '{"InstanceInformationList": {}}',
        /inventory\.json: InstanceInformationList: /,
      ],
      ['a syncz that is not an array', 'cluster/syncz/istiod-a.json', '{}', /cluster\/syncz\/istiod-a\.json: \(root\): /],
    ])('%s', async (_name, key, body, message) => {
      const runId = `run-broken-${key.replace(/[^a-z0-9]/g, '').slice(0, 40)}`;
      const run = await brokenRun(runId, key, body);
      const error = await run.evidence.readBundle().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.name).toBe('BundleError');
      expect(error?.message).toMatch(message);
      expect(error?.message).toContain(`s3://${BUCKET}/runs/${runId}/evidence/${key}`);
    });

    it('a bundle with no manifest, and no bundle at all', async () => {
      const s = store();
      const run = await s.openRun('run-no-manifest');
      await run.evidence.writeInventory({ InstanceInformationList: [] });
      await expect(run.evidence.readBundle()).rejects.toThrow(
        `s3://${BUCKET}/runs/run-no-manifest/evidence/manifest.json: cannot be read (NoSuchKey)`,
      );
      await expect((await s.resumeRun('run-nothing')).evidence.readBundle()).rejects.toThrow(
        `s3://${BUCKET}/runs/run-nothing/evidence/: no such bundle (no object under this prefix)`,
      );
    });
  });

  it('reads a stored report back as text, or nothing when there is none', async () => {
    const s = store();
    const run = await s.openRun('run-report');
    await run.reports.writeArtifact({ name: 'report.json', contentType: 'application/json', body: '{"schemaVersion":1}' });
    expect(await s.readReportText('run-report')).toBe('{"schemaVersion":1}');
    expect(await s.readReportText('run-without-report')).toBeUndefined();
  });

  it('names the bucket and the call when S3 refuses', async () => {
    const missing = new S3AuditStore({ bucket: 'no-such-bucket', client, encryption: { kind: 'AES256' } });
    await expect(missing.openRun('run-x')).rejects.toThrow(
      /^ListObjectsV2 failed: NoSuchBucket.*\(s3:\/\/no-such-bucket\/runs\/run-x\/\)$/,
    );
  });
});

// Last: s3rver takes seconds over a large upload, and the shared client's idle connections may be closed meanwhile.
describe('S3AuditStore streaming a large report to s3rver', () => {
  it('writes a report given in chunks whole: one PutObject when small, a completed multipart upload when large', async () => {
    const calls: string[] = [];
    const created: { ServerSideEncryption?: string; ContentType?: string }[] = [];
    const spy = new S3Client({
      region: 'eu-west-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      maxAttempts: 1,
    });
    spy.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName ?? '?');
        if (context.commandName === 'CreateMultipartUploadCommand')
          created.push(args.input as { ServerSideEncryption?: string; ContentType?: string });
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    // 10 MiB of lines, non-ASCII among them: two parts, and chunk edges that fall inside no character.
    const line = (i: number) => `{"n":${i},"text":"caf\u00e9 \u2026 ${'x'.repeat(200)}"}\n`;
    const lines = function* () {
      for (let i = 0; i < 50_000; i++) yield line(i);
    };
    try {
      const run = await new S3AuditStore({ bucket: BUCKET, client: spy, encryption: { kind: 'AES256' } }).openRun('run-streamed');
      expect(
        await run.reports.writeArtifact({ name: 'report.csv', contentType: 'text/csv; charset=utf-8', body: ['a,b\r\n', '1,2\r\n'] }),
      ).toBe(`s3://${BUCKET}/runs/run-streamed/report.csv`);
      expect(calls.filter((c) => c !== 'ListObjectsV2Command')).toEqual(['PutObjectCommand']);
      calls.length = 0;
      await run.reports.writeArtifact({ name: 'report.json', contentType: 'application/json', body: lines() });
      expect(calls.filter((c) => c === 'UploadPartCommand').length).toBe(2);
      expect(calls).toContain('CompleteMultipartUpload'.concat('Command'));
    } finally {
      spy.destroy();
    }
    expect((await objectText('runs/run-streamed/report.csv')).body).toBe('a,b\r\n1,2\r\n');
    // s3rver keeps no encryption for a multipart object: what the upload asked for is checked instead.
    expect(created).toMatchObject([{ ServerSideEncryption: 'AES256', ContentType: 'application/json' }]);
    expect((await objectText('runs/run-streamed/report.json')).body).toBe([...lines()].join(''));
  });
});
