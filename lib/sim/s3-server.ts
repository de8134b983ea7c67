import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

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
  close(): Promise<void>;
}

export interface SimS3ServerOptions {
  buckets?: string[];
  /** A directory to keep the objects in; by default a temporary one, removed on close. */
  directory?: string;
  /** Emulated network and service latency added to every request, in milliseconds (default 0). */
  latencyMs?: number;
}

interface S3rverObject {
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  content: Buffer | Readable;
}

interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

interface S3rverInstance {
  /** s3rver is a Koa application: its middleware list, composed when it starts. */
  middleware: Array<(ctx: unknown, next: () => Promise<unknown>) => Promise<unknown>>;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  store: S3rverStore;
}
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
  makePutsAtomic(server.store);
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
function makePutsAtomic(store: S3rverStore): void {
  store.putObject = async (object) => {
    const content = Buffer.isBuffer(object.content) ? object.content : await readAll(object.content);
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, content);
    await rename(tmp, path);
    const md5 = createHash('md5').update(content).digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
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
