import {
  GetObjectCommand,
  ListObjectsV2Command,
  type GetObjectCommandOutput,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { InventorySchema, InvocationSchema, ManifestSchema, type Invocation } from '../core/evidence-bundle.ts';
import { mayFenceRecord, mayReplaceRecord, recordFinality, RECORD_FINALITY, type RecordFinality } from '../core/record-finality.ts';
import type { AuditStore, RunStorage } from '../ports/audit-store.ts';
import type { RecordWrite, RecordWriteOptions, StoredRun, StoredRuns } from '../ports/run-registry.ts';
import {
  BundleError,
  BundleFileTooLargeError,
  BUNDLE_FILE_LIMITS,
  bundleJson,
  INVENTORY_FILE,
  isRunId,
  MANIFEST_FILE,
  parseBundleText,
} from './bundle-layout.ts';
import { S3ArtifactWriter } from './s3-artifact-writer.ts';
import type { S3ObjectAccess } from './s3-object-access.ts';
import { JSON_TYPE, S3Bundle } from './s3-evidence-bundle.ts';
import { S3CallError } from '../shared/errors.ts';
import { utf8Blocks } from './text-blocks.ts';
import { errorCode, messageOf } from '../shared/error-code.ts';

/** How objects are encrypted at rest: S3-managed keys, or a KMS key (the bucket's default key when none is named). */
export type S3Encryption = { kind: 'AES256' } | { kind: 'aws:kms'; keyId?: string };

export interface S3AuditStoreOptions {
  bucket: string;
  /** Prefix of every key of the store, e.g. `audit/` (default: none). */
  prefix?: string;
  encryption: S3Encryption;
  /** Objects read at once when a bundle is read back (default 16). */
  readConcurrency?: number;
  /** Objects written at once when several are stored together (default 16). */
  writeConcurrency?: number;
  /** How long the store's own client waits for one answer before it retries (default 30,000 ms). */
  requestTimeoutMs?: number;
  /** A client to share; otherwise one is made from `clientConfig`. */
  client?: S3Client;
  clientConfig?: S3ClientConfig;
}

/** Rounds of a conditional record write lost to other writers before giving up (each round one writer wins). */
const RECORD_WRITE_ROUNDS = 16;
const ProvisionalSchema = z.object({ instanceIds: z.array(z.string()) });
/** A streamed object's part: S3's smallest but for the last (5 MiB) plus room, so a 100 MB report is about a dozen parts. */
const STREAMED_PART_BYTES = 8 * 1024 * 1024;

/**
 * The audit store in S3, laid out like the local directory store under `<prefix>runs/<runId>/`:
 * `evidence/` holds the bundle (docs/design.md) and `report.json`, `report.html`… sit beside it.
 * Every object is written whole (PutObject, or a multipart upload for a large report) with server-side encryption.
 */
export class S3AuditStore implements AuditStore, StoredRuns, S3ObjectAccess {
  readonly bucket: string;
  readonly #prefix: string;
  readonly #s3: S3Client;
  readonly #options: S3AuditStoreOptions;

  constructor(options: S3AuditStoreOptions) {
    if (!options.bucket) throw new Error('S3AuditStore: no bucket');
    const prefix = options.prefix ?? '';
    if (
      prefix !== '' &&
      (!prefix.endsWith('/') ||
        prefix.startsWith('/') ||
        prefix.split('/').some((p, i, all) => p === '..' || p === '.' || (p === '' && i < all.length - 1)))
    ) {
      throw new Error(`S3AuditStore: the key prefix ${JSON.stringify(prefix)} must be relative segments ending in "/"`);
    }
    this.bucket = options.bucket;
    this.#prefix = prefix;
    this.#options = options;
    // Without throwOnRequestTimeout the SDK only warns when an answer is late and keeps waiting: one lost
    // answer would hold a finalization until its function is killed, and its run until the lease ends.
    const requestHandler = { requestTimeout: options.requestTimeoutMs ?? 30_000, throwOnRequestTimeout: true, connectionTimeout: 5_000 };
    this.#s3 = options.client ?? new S3Client({ retryMode: 'adaptive', maxAttempts: 5, requestHandler, ...options.clientConfig });
  }

  /** Closes the client's connections (only when the store made the client). */
  destroy(): void {
    if (!this.#options.client) this.#s3.destroy();
  }

  async openRun(runId: string): Promise<RunStorage> {
    const base = this.#runBase(runId);
    const listed = await this.#send('ListObjectsV2', base, () =>
      this.#s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, MaxKeys: 1 })),
    );
    if ((listed.KeyCount ?? listed.Contents?.length ?? 0) > 0)
      throw new BundleError(`${this.#url(base)}: a run with this id is already stored`);
    return this.#storage(base);
  }

  async resumeRun(runId: string): Promise<StoredRun> {
    return this.#storage(this.#runBase(runId));
  }

  async readReportText(runId: string): Promise<string | undefined> {
    return this.#get(`${this.#runBase(runId)}report.json`);
  }

  #storage(base: string): StoredRun {
    const evidence = new S3Bundle(this, `${base}evidence/`);
    const late = new S3Bundle(this, `${base}late/`);
    const provisional = `${base}provisional.json`;
    return {
      location: this.#url(base),
      evidence,
      reports: new S3ArtifactWriter(this, base),
      storedInvocations: () => evidence.storedInvocations(),
      readManifest: () => evidence.readPart(MANIFEST_FILE, ManifestSchema),
      readInventory: () => evidence.readPart(INVENTORY_FILE, InventorySchema),
      writeRecord: (invocation, options) => evidence.writeRecord(invocation, options),
      writeLate: (invocation) => late.writeRecord(invocation),
      storedLate: () => late.storedInvocations(),
      readProvisional: async () => {
        const text = await this.getForBundle(provisional, BUNDLE_FILE_LIMITS.manifest);
        return new Set(text === undefined ? [] : parseBundleText(this.#url(provisional), text, ProvisionalSchema).instanceIds);
      },
      writeProvisional: async (ids) => {
        await this.put(provisional, `${JSON.stringify({ instanceIds: [...ids].sort() })}\n`, JSON_TYPE);
      },
    };
  }

  #runBase(runId: string): string {
    if (!isRunId(runId)) throw new BundleError(`run id ${JSON.stringify(runId)} is not a safe S3 key segment`);
    return `${this.#prefix}runs/${runId}/`;
  }

  #url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  // ------------------------------------------------------------ object access, shared by the bundle and the artifacts

  /**
   * Writes one object from chunks of text made as it is sent: up to a part's size it is one PutObject, beyond
   * that a multipart upload, whose object appears only when it completes (an interrupted upload leaves no
   * object, and the bucket's lifecycle removes its parts). Memory stays at a part or two, whatever the size.
   */
  async putStreamed(key: string, chunks: Iterable<string>, contentType: string): Promise<string> {
    const encryption = this.#options.encryption;
    const upload = new Upload({
      client: this.#s3,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: Readable.from(utf8Blocks(chunks)),
        ContentType: contentType,
        ServerSideEncryption: encryption.kind,
        ...(encryption.kind === 'aws:kms'
          ? { BucketKeyEnabled: true, ...(encryption.keyId ? { SSEKMSKeyId: encryption.keyId } : {}) }
          : {}),
      },
      partSize: STREAMED_PART_BYTES,
      queueSize: 1,
    });
    try {
      await upload.done();
    } catch (error) {
      throw new S3CallError('PutObject', errorCode(error), messageOf(error), this.#url(key), error);
    }
    return this.#url(key);
  }

  /** Writes one object, encrypted. */
  async put(key: string, body: string, contentType: string): Promise<string> {
    await this.#put(key, body, contentType, {});
    return this.#url(key);
  }

  /**
   * Stores an invocation record at `key` unless one as final or more is there, with S3's conditional
   * writes: If-None-Match: * creates it, If-Match on the ETag read replaces a less final one. A write that
   * loses to another writer reads the record again and decides anew, so the stored record only ever becomes
   * more final, whatever the interleaving of writers.
   */
  async putRecord(key: string, invocation: Invocation, options: RecordWriteOptions = {}): Promise<RecordWrite> {
    const body = bundleJson(invocation);
    const finality = recordFinality(invocation);
    let condition: Pick<PutObjectCommandInput, 'IfMatch' | 'IfNoneMatch'> = { IfNoneMatch: '*' };
    for (let round = 0; round < RECORD_WRITE_ROUNDS; round++) {
      if (await this.#put(key, body, JSON_TYPE, condition)) return 'written';
      const current = await this.#getRecord(key);
      if (current === undefined) {
        condition = { IfNoneMatch: '*' };
        continue;
      }
      if (!(options.fence ? mayFenceRecord(current.finality, finality) : mayReplaceRecord(current.finality, finality))) return 'kept';
      if (options.open && !(await options.open())) return 'sealed';
      condition = { IfMatch: current.etag };
    }
    throw new S3CallError(
      'PutObject',
      'ConditionalRequestConflict',
      `lost ${RECORD_WRITE_ROUNDS} rounds to other writers`,
      this.#url(key),
      undefined,
    );
  }

  /** The stored record's finality and ETag; a record that does not parse counts as none, so a valid one replaces it. */
  async #getRecord(key: string): Promise<{ finality: RecordFinality; etag: string } | undefined> {
    let answer;
    try {
      answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (errorCode(error) === 'NoSuchKey') return undefined;
      throw new S3CallError('GetObject', errorCode(error), messageOf(error), this.#url(key), error);
    }
    const text = (await answer.Body?.transformToString('utf-8')) ?? '';
    let finality: RecordFinality = RECORD_FINALITY.none;
    try {
      const parsed = InvocationSchema.safeParse(JSON.parse(text));
      if (parsed.success) finality = recordFinality(parsed.data);
    } catch {
      // Not JSON: as good as absent.
    }
    if (!answer.ETag) throw new S3CallError('GetObject', 'NoETag', 'the answer carries no ETag', this.#url(key), undefined);
    return { finality, etag: answer.ETag };
  }

  /** One PutObject; with a condition, false when the condition did not hold (or another conditional write won). */
  async #put(
    key: string,
    body: string,
    contentType: string,
    condition: Pick<PutObjectCommandInput, 'IfMatch' | 'IfNoneMatch'>,
  ): Promise<boolean> {
    const encryption = this.#options.encryption;
    const input: PutObjectCommandInput = {
      ...condition,
      Bucket: this.bucket,
      Key: key,
      Body: body,
      // Given, so that an empty body is not taken for a stream of unknown length.
      ContentLength: Buffer.byteLength(body, 'utf8'),
      ContentType: contentType,
      ServerSideEncryption: encryption.kind,
      ...(encryption.kind === 'aws:kms' ? { BucketKeyEnabled: true, ...(encryption.keyId ? { SSEKMSKeyId: encryption.keyId } : {}) } : {}),
    };
    try {
      await this.#s3.send(new PutObjectCommand(input));
      return true;
    } catch (error) {
      if ((condition.IfMatch !== undefined || condition.IfNoneMatch !== undefined) && isLostCondition(error)) return false;
      throw new S3CallError('PutObject', errorCode(error), messageOf(error), this.#url(key), error);
    }
  }

  /** The object's text, or undefined when there is no such key. */
  async #get(key: string): Promise<string | undefined> {
    try {
      const answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await answer.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (errorCode(error) === 'NoSuchKey') return undefined;
      throw new S3CallError('GetObject', errorCode(error), messageOf(error), this.#url(key), error);
    }
  }

  /**
   * Reads an object of a bundle, or undefined when there is no such key. Its length is checked before
   * its body is read, and the body is read up to `limit` + 1 bytes at most (a stream that brings more is
   * cut): BundleFileTooLargeError then. Any other failure is a BundleError naming the object and the
   * error code, never the body. Bytes that are not UTF-8 become U+FFFD.
   */
  async getForBundle(key: string, limit: number): Promise<string | undefined> {
    let answer: GetObjectCommandOutput;
    try {
      answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (errorCode(error) === 'NoSuchKey') return undefined;
      throw new BundleError(`${this.#url(key)}: cannot be read (${errorCode(error)})`, { cause: error });
    }
    const body = answer.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    try {
      if (answer.ContentLength !== undefined && answer.ContentLength > limit)
        throw new BundleFileTooLargeError(this.#url(key), answer.ContentLength, limit);
      if (!body) return '';
      const chunks: Uint8Array[] = [];
      let total = 0;
      for await (const chunk of body) {
        total += chunk.byteLength;
        if (total > limit) throw new BundleFileTooLargeError(this.#url(key), Math.max(total, answer.ContentLength ?? 0), limit);
        chunks.push(chunk);
      }
      return Buffer.concat(chunks, total).toString('utf8');
    } catch (error) {
      if (error instanceof BundleError) throw error;
      throw new BundleError(`${this.#url(key)}: cannot be read (${errorCode(error)})`, { cause: error });
    } finally {
      // Unread bytes are dropped with the connection rather than downloaded.
      body?.destroy?.();
    }
  }

  /** Every key under a prefix, all pages. */
  async listKeys(prefix: string): Promise<string[]> {
    return (await this.listObjects(prefix)).map((object) => object.key);
  }

  /** Every key under a prefix with its size in bytes, all pages. */
  async listObjects(prefix: string): Promise<Array<{ key: string; size: number | undefined }>> {
    const objects: Array<{ key: string; size: number | undefined }> = [];
    let token: string | undefined;
    do {
      const page = await this.#send('ListObjectsV2', prefix, () =>
        this.#s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const item of page.Contents ?? []) if (item.Key) objects.push({ key: item.Key, size: item.Size });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  url(key: string): string {
    return this.#url(key);
  }

  get readConcurrency(): number {
    return this.#options.readConcurrency ?? 16;
  }

  get writeConcurrency(): number {
    return this.#options.writeConcurrency ?? 16;
  }

  async #send<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new S3CallError(operation, errorCode(error), messageOf(error), this.#url(key), error);
    }
  }
}

/** A conditional write that did not hold (412), lost a race with another one (409), or found its object gone (404). */
function isLostCondition(error: unknown): boolean {
  const code = errorCode(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return ['PreconditionFailed', 'ConditionalRequestConflict', 'NoSuchKey'].includes(code) || status === 412 || status === 409;
}
