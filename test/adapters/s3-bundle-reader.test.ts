import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_FILE_LIMITS, BundleError } from '../../lib/adapters/bundle-layout.ts';
import { S3AuditStore } from '../../lib/adapters/s3-audit-store.ts';
import type { RunStorage } from '../../lib/ports/audit-store.ts';
import { S3RVER_CREDENTIALS, startS3Server, type SimS3Server } from '../../sim/s3-server.ts';
import { buildBundle } from '../support/bundle-builder.ts';

/**
 * The S3 bundle reader holds to the local reader's rules (see bundle-reader.test.ts): only the writer's
 * key names are listed, sizes are checked before a body is read and the body is read bounded, and no
 * message repeats an object's content. Against s3rver, and at the SDK seam for what s3rver cannot serve
 * (a key that climbs, a body without a length that never ends).
 */

const BUCKET = 'fleet-audit-evidence';
const VM = 'i-0123456789abcdef0';
const OTHER_VM = 'i-0123456789abcdef1';
const SECRET = 'TOPSECRET-7f3a9c';

let s3: SimS3Server;
let client: S3Client;
const gotKeys: string[] = [];

beforeAll(async () => {
  s3 = await startS3Server({ buckets: [BUCKET] });
  client = new S3Client({
    region: 'eu-west-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand') gotKeys.push((args.input as { Key: string }).Key);
      return next(args);
    },
    { step: 'initialize', name: 'countGets' },
  );
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

const store = (): S3AuditStore => new S3AuditStore({ bucket: BUCKET, client, encryption: { kind: 'AES256' } });

/** A valid bundle written by the writer, with `extra` objects then put beside or over its files. */
async function run(runId: string, extra: Record<string, string | Buffer> = {}): Promise<RunStorage> {
  const storage = await store().openRun(runId);
  const bundle = buildBundle({ vms: [{ instanceId: VM }, { instanceId: OTHER_VM }], syncz: { 'istiod-a': [] } });
  await storage.evidence.writeManifest(bundle.manifest);
  await storage.evidence.writeInventory(bundle.inventory);
  for (const invocation of Object.values(bundle.invocations)) await storage.evidence.writeInvocation(invocation);
  await storage.evidence.writeCluster(bundle.cluster!);
  for (const [key, body] of Object.entries(extra)) {
    await fetch(`${s3.endpoint}/${BUCKET}/runs/${runId}/evidence/${key.split('/').map(encodeURIComponent).join('/')}`, {
      method: 'PUT',
      body,
    });
  }
  return storage;
}

async function failure(storage: RunStorage): Promise<Error> {
  return storage.evidence.readBundle().then(
    () => {
      throw new Error('the bundle was read');
    },
    (error: unknown) => error as Error,
  );
}

const url = (runId: string, path: string): string => `s3://${BUCKET}/runs/${runId}/evidence/${path}`;

describe('the S3 bundle reader against s3rver', () => {
  it('reads the bundle the writer wrote, passing over an empty folder marker', async () => {
    const read = await (await run('s3r-valid', { 'invocations/': '' })).evidence.readBundle();
    expect(Object.keys(read.invocations).sort()).toEqual([VM, OTHER_VM]);
  });

  it.each([
    ['evil.json', '"evil.json"'],
    ['I-0123456789ABCDEF0.json', '"I-0123456789ABCDEF0.json"'],
    [`sub/${VM}.json`, `"sub/${VM}.json"`],
    [`${VM}.json/`, `"${VM}.json/"`],
    ['\u001b[2J.json', '"\\u001b[2J.json"'],
  ])('refuses the key invocations/%j, naming it (quoted, printable)', async (name, quoted) => {
    const runId = `s3r-name-${Buffer.from(name).toString('hex').slice(0, 24)}`;
    const error = await failure(await run(runId, { [`invocations/${name}`]: JSON.stringify({ InstanceId: VM, Status: 'Success' }) }));
    expect(error).toBeInstanceOf(BundleError);
    expect(error.message).toBe(
      `${url(runId, 'invocations/')}: holds ${quoted}, which is not a name this tool writes there (invocations/<SSM managed node id>.json)`,
    );
  });

  it('refuses a root CA key not named like a namespace', async () => {
    const error = await failure(await run('s3r-rootca', { 'cluster/root-ca/Pay_ments.json': '{}' }));
    expect(error.message).toBe(
      `${url('s3r-rootca', 'cluster/root-ca/')}: holds "Pay_ments.json", which is not a name this tool writes there (cluster/root-ca/<namespace>.json)`,
    );
  });

  /** Makes a stored object `size` bytes long without writing them (a sparse file in s3rver's own layout). */
  async function growObject(key: string, size: number): Promise<void> {
    await truncate(join(s3.directory, BUCKET, `${key}._S3rver_object`), size);
  }

  it('marks only the VM whose object is larger than its limit, from the listing, without a GET', async () => {
    const storage = await run('s3r-large');
    const key = `runs/s3r-large/evidence/invocations/${VM}.json`;
    await growObject(key, BUNDLE_FILE_LIMITS.invocation + 1);
    const bundle = await storage.evidence.readBundle();
    expect(bundle.invocations[VM]?.FleetAuditCollectionError).toBe(
      `the stored record of this VM's invocation holds ${BUNDLE_FILE_LIMITS.invocation + 1} bytes, more than the ${BUNDLE_FILE_LIMITS.invocation} bytes one VM's record may hold: its output was not read`,
    );
    expect(bundle.invocations[OTHER_VM]?.Status).toBe('Success');
    expect(gotKeys).not.toContain(key);
  });

  it('refuses a GET whose ContentLength is over the limit without reading the body (a 4 GiB object)', async () => {
    await run('s3r-huge');
    const key = 'runs/s3r-huge/evidence/inventory.json';
    await growObject(key, 4 * 1024 ** 3);
    await expect(store().getForBundle(key, BUNDLE_FILE_LIMITS.inventory)).rejects.toMatchObject({
      name: 'BundleFileTooLargeError',
      size: 4 * 1024 ** 3,
    });
  });

  it('checks the length S3 answers before reading the body', async () => {
    await run('s3r-length');
    const s = store();
    const key = `runs/s3r-length/evidence/invocations/${VM}.json`;
    const text = await s.getForBundle(key, BUNDLE_FILE_LIMITS.invocation);
    const size = Buffer.byteLength(text!);
    expect(await s.getForBundle(key, size)).toBe(text);
    await expect(s.getForBundle(key, size - 1)).rejects.toMatchObject({ name: 'BundleFileTooLargeError', size, limit: size - 1 });
    expect(await s.getForBundle('runs/s3r-length/evidence/invocations/i-00000000000000000.json', 10)).toBeUndefined();
  });

  it('says where a JSON syntax error is, never what the object holds', async () => {
    const error = await failure(await run('s3r-json', { [`invocations/${VM}.json`]: `{"InstanceId": "${VM}",\n ${SECRET}}` }));
    expect(error.message).toBe(
      `${url('s3r-json', `invocations/${VM}.json`)}: is not valid JSON (unexpected character at line 2, column 2)`,
    );
  });

  it('reads bytes that are not UTF-8 as U+FFFD, in that string only', async () => {
    const [head, tail] = [`{"InstanceId": "${VM}", "Status": "Success", "StandardOutputContent": "a`, 'b"}'];
    const read = await (
      await run('s3r-utf8', {
        [`invocations/${VM}.json`]: Buffer.concat([Buffer.from(head), Buffer.from([0xff, 0xc3]), Buffer.from(tail)]),
      })
    ).evidence.readBundle();
    expect(read.invocations[VM]?.StandardOutputContent).toBe('a\ufffd\ufffdb');
  });

  it("names a field of the wrong type, never the object's own keys or values", async () => {
    const body = JSON.stringify({ InstanceId: VM, Status: 'Success', ResponseCode: SECRET, [`${SECRET}\u001b[2J`]: 1 });
    const error = await failure(await run('s3r-schema', { [`invocations/${VM}.json`]: body }));
    expect(error.message).toBe(
      `${url('s3r-schema', `invocations/${VM}.json`)}: ResponseCode: Invalid input: expected number, received string`,
    );
  });

  it('names an invocation holding another InstanceId, without repeating the one it holds', async () => {
    const error = await failure(
      await run('s3r-other-id', {
        [`invocations/${VM}.json`]: JSON.stringify({ InstanceId: `\u001b]0;${SECRET}\u0007`, Status: 'Success' }),
      }),
    );
    expect(error.message).toContain(url('s3r-other-id', `invocations/${VM}.json`));
    expect(error.message).not.toContain(SECRET);
    expect([...error.message].every((c) => c >= ' ' && c <= '~')).toBe(true);
  });

  it('skips a byte-order mark', async () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(JSON.stringify({ InstanceId: VM, Status: 'Success', StandardOutputContent: 'bom' })),
    ]);
    const read = await (await run('s3r-bom', { [`invocations/${VM}.json`]: body })).evidence.readBundle();
    expect(read.invocations[VM]?.StandardOutputContent).toBe('bom');
  });
});

describe('the S3 bundle reader at the SDK seam', () => {
  // Mocks every S3Client's send, so it is made only once the s3rver tests above are done.
  let mock: ReturnType<typeof mockClient>;
  beforeAll(() => {
    mock = mockClient(S3Client);
  });
  const seam = (): S3AuditStore =>
    new S3AuditStore({ bucket: BUCKET, client: new S3Client({ region: 'eu-west-1' }), encryption: { kind: 'AES256' } });

  afterAll(() => mock.restore());

  it('refuses a listed key that climbs out of its directory', async () => {
    mock.reset();
    const base = 'runs/seam-climb/evidence/';
    mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: `${base}manifest.json`, Size: 10 },
        { Key: `${base}invocations/../x.json`, Size: 10 },
      ],
    });
    mock.on(GetObjectCommand).callsFake(() => ({
      Body: Readable.from([Buffer.from('{"bundleVersion": 1, "runId": "r", "startedAt": "2026-11-26T06:00:00Z", "source": "sim"}')]),
    }));
    const error = await failure(await seam().resumeRun('seam-climb'));
    expect(error.message).toBe(
      `s3://${BUCKET}/${base}invocations/: holds "../x.json", which is not a name this tool writes there (invocations/<SSM managed node id>.json)`,
    );
    expect(mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key)).toEqual([`${base}manifest.json`]);
  });

  it('stops reading a body without a length once it passes the limit, and drops the rest', async () => {
    mock.reset();
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 0x20));
      },
    });
    mock.on(GetObjectCommand).resolves({ Body: endless as never });
    await expect(seam().getForBundle('runs/x/evidence/manifest.json', 1024 * 1024)).rejects.toMatchObject({
      name: 'BundleFileTooLargeError',
      limit: 1024 * 1024,
    });
    expect(endless.destroyed).toBe(true);
    expect(pulled).toBeLessThan(4 * 1024 * 1024);
  });

  it('refuses a body whose announced length is over the limit without reading any of it', async () => {
    mock.reset();
    let pulled = 0;
    const body = new Readable({
      read() {
        pulled++;
        this.push(null);
      },
    });
    mock.on(GetObjectCommand).resolves({ Body: body as never, ContentLength: 5_000_000_000 });
    await expect(seam().getForBundle('runs/x/evidence/inventory.json', BUNDLE_FILE_LIMITS.inventory)).rejects.toMatchObject({
      name: 'BundleFileTooLargeError',
      size: 5_000_000_000,
    });
    expect(pulled).toBe(0);
    expect(body.destroyed).toBe(true);
  });

  it('names the object and the error code when a GET fails, nothing of its answer', async () => {
    mock.reset();
    mock.on(GetObjectCommand).rejects(Object.assign(new Error(`AccessDenied: ${SECRET}`), { name: 'AccessDenied' }));
    const error = await seam()
      .getForBundle('runs/x/evidence/manifest.json', 1024)
      .catch((e: unknown) => e as Error);
    expect((error as Error).message).toBe(`s3://${BUCKET}/runs/x/evidence/manifest.json: cannot be read (AccessDenied)`);
  });
});
