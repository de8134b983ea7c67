import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { SimFaultPlan, type SimFaultRule } from './fault-plan.ts';
import { s3FaultStep } from './s3-faults.ts';

/** s3rver checks the access key id of signed requests against this account (signatures are not checked). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Puts objects into the S3-compatible endpoint the way the SSM agent uploads command output. */
export interface SimS3Writer {
  put(bucket: string, key: string, body: string): Promise<void>;
}

export interface SimS3Server {
  /** `http://127.0.0.1:<port>`, for path-style clients. */
  endpoint: string;
  /** Where s3rver keeps the objects. */
  directory: string;
  writer: SimS3Writer;
  createBucket(name: string): Promise<void>;
  /** The injected faults' plan, with what it injected. */
  faults: SimFaultPlan;
  close(): Promise<void>;
}

/** An object as it became visible in the store, in the order the endpoint stored them. */
export interface SimStoredObject {
  bucket: string;
  key: string;
  body: string;
}

export interface SimS3ServerOptions {
  buckets?: string[];
  /** A directory to keep the objects in; by default a temporary one, removed on close. */
  directory?: string;
  /** Emulated network and service latency added to every request, in milliseconds (default 0). */
  latencyMs?: number;
  /** Bursts of SlowDown, InternalError or unanswered requests on chosen operations (fault-plan.ts). */
  faults?: readonly SimFaultRule[];
  /** Told of every object stored, once it is visible, so that a test can see each write a store made. */
  onStored?: (object: SimStoredObject) => void;
}

interface S3rverObject {
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  content: Buffer | Readable;
}

interface S3rverStore {
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  /** s3rver is a Koa application: its middleware list, composed when it starts. */
  middleware: KoaMiddleware[];
  close(): Promise<void>;
  store: S3rverStore;
}
interface KoaContext {
  method: string;
  path: string;
  querystring: string;
  respond?: boolean;
  res: ServerResponse;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

// s3rver is CommonJS without type declarations; its constructor is typed here to the part we use.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

/** Starts s3rver on 127.0.0.1 with an ephemeral port and creates the buckets. */
export async function startS3Server(options: SimS3ServerOptions = {}): Promise<SimS3Server> {
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'fleet-audit-s3-')));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    // Clients sign with any secret; only the access key id must be S3RVER.
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  makePutsAtomic(server.store, options.onStored);
  // A precondition is checked before s3rver's own handling of the PUT.
  server.middleware.unshift(conditionalPuts(server.store));
  const faults = new SimFaultPlan(options.faults);
  // Before the precondition: a faulted request never reaches the store.
  server.middleware.unshift(s3FaultStep(faults));
  const latency = options.latencyMs ?? 0;
  if (latency > 0) {
    // First in the chain, so every request waits before s3rver handles it.
    server.middleware.unshift(async (_ctx, next) => {
      await new Promise((resolve) => setTimeout(resolve, latency));
      return next();
    });
  }
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const writer = s3Writer(endpoint);
  let closed = false;
  return {
    endpoint,
    directory,
    writer,
    faults,
    async createBucket(name: string): Promise<void> {
      const response = await fetch(`${endpoint}/${encodeURIComponent(name)}`, { method: 'PUT' });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`creating bucket ${name} on ${endpoint} failed: HTTP ${response.status}`);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await server.close();
      if (ownDirectory) await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver answers a PUT, and lists the object, before its bytes are on disk, so a GET right after can
 * read an empty or half-written object: something S3 never serves, and a source of flaky reads. Objects
 * are therefore written to a temporary file and renamed into place before their metadata makes them visible.
 */
function makePutsAtomic(store: S3rverStore, onStored: SimS3ServerOptions['onStored']): void {
  store.putObject = async (object) => {
    const content = Buffer.isBuffer(object.content) ? object.content : await readAll(object.content);
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, content);
    await rename(tmp, path);
    const md5 = createHash('md5').update(content).digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    onStored?.({ bucket: object.bucket, key: object.key, body: content.toString('utf8') });
    return { size: content.length, md5 };
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** A writer doing plain unsigned PUTs, which s3rver accepts as anonymous requests. */
export function s3Writer(endpoint: string): SimS3Writer {
  return {
    async put(bucket: string, key: string, body: string): Promise<void> {
      const path = key.split('/').map(encodeURIComponent).join('/');
      const response = await fetch(`${endpoint}/${encodeURIComponent(bucket)}/${path}`, {
        method: 'PUT',
        body,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`PUT s3://${bucket}/${key} failed: HTTP ${response.status} ${text.slice(0, 200)}`);
    },
  };
}

/**
 * S3's conditional writes (PutObject with If-None-Match: * or If-Match: <ETag>, answered 412
 * PreconditionFailed when the condition does not hold; S3 User Guide, "Add preconditions to S3 operations
 * with conditional requests"), which s3rver 3 does not implement: it honours If-None-Match on GET only.
 * Conditional PUTs of one key are serialized, so the check and the write are one step as in S3.
 */
function conditionalPuts(store: S3rverStore): KoaMiddleware {
  const queues = new Map<string, Promise<void>>();
  return async (ctx, next) => {
    const ifNoneMatch = header(ctx.headers['if-none-match']);
    const ifMatch = header(ctx.headers['if-match']);
    const object = /^\/(?<bucket>[^/]+)\/(?<key>.+)$/.exec(ctx.path);
    if (ctx.method !== 'PUT' || (ifNoneMatch === undefined && ifMatch === undefined) || !object?.groups) return next();
    const bucket = decodeURIComponent(object.groups.bucket!);
    const key = decodeURIComponent(object.groups.key!);
    const id = `${bucket}/${key}`;
    const before = queues.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    queues.set(id, tail);
    await before;
    try {
      const etag = await store.getMetadata(bucket, key).then(
        (metadata) => metadata.etag,
        () => undefined,
      );
      if (ifMatch !== undefined && etag === undefined) return s3Error(ctx, 404, 'NoSuchKey', 'The specified key does not exist.');
      if ((ifNoneMatch === '*' && etag !== undefined) || (ifMatch !== undefined && ifMatch !== etag)) {
        return s3Error(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      await next();
    } finally {
      release();
      if (queues.get(id) === tail) queues.delete(id);
    }
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function s3Error(ctx: KoaContext, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}
