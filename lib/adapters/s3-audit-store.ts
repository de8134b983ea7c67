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
import {
  InventorySchema,
  InvocationSchema,
  ManifestSchema,
  type ClusterEvidence,
  type EvidenceBundle,
  type Inventory,
  type Invocation,
  type Manifest,
} from '../core/evidence-bundle.ts';
import { mayFenceRecord, mayReplaceRecord, recordFinality, RECORD_FINALITY, type RecordFinality } from '../core/record-finality.ts';
import type {
  Artifact,
  ArtifactWriter,
  AuditStore,
  DigestedBundle,
  EvidenceReader,
  EvidenceWriter,
  RunStorage,
} from '../ports/audit-store.ts';
import type { RecordWrite, RecordWriteOptions, StoredRun, StoredRuns } from '../ports/run-registry.ts';
import {
  BundleError,
  BundleFileTooLargeError,
  BUNDLE_FILE_LIMITS,
  fileLimitOf,
  bundleJson,
  clusterFiles,
  CLUSTER_DIR,
  INVENTORY_FILE,
  instanceIdOfInvocationFile,
  INVOCATIONS_DIR,
  invocationPath,
  isRunId,
  isStoredFileName,
  MANIFEST_FILE,
  parseBundleText,
  quoteStoredName,
  readDigestedBundle,
  readEvidenceBundle,
  storedFileNameRule,
  type BundleSource,
} from './bundle-layout.ts';
import { S3CallError } from '../shared/errors.ts';
import { utf8Blocks } from './text-blocks.ts';
import { mapBounded } from '../shared/bounded-concurrency.ts';
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

const JSON_TYPE = 'application/json; charset=utf-8';
/** Rounds of a conditional record write lost to other writers before giving up (each round one writer wins). */
const RECORD_WRITE_ROUNDS = 16;
const ProvisionalSchema = z.object({ instanceIds: z.array(z.string()) });
/** A streamed object's part: S3's smallest but for the last (5 MiB) plus room, so a 100 MB report is about a dozen parts. */
const STREAMED_PART_BYTES = 8 * 1024 * 1024;
const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The audit store in S3, laid out like the local directory store under `<prefix>runs/<runId>/`:
 * `evidence/` holds the bundle (docs/design.md) and `report.json`, `report.html`… sit beside it.
 * Every object is written whole (PutObject, or a multipart upload for a large report) with server-side encryption.
 */
export class S3AuditStore implements AuditStore, StoredRuns {
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

/** One run's evidence bundle under `…/evidence/`. */
class S3Bundle implements EvidenceWriter, EvidenceReader {
  readonly #store: S3AuditStore;
  readonly #base: string;

  constructor(store: S3AuditStore, base: string) {
    this.#store = store;
    this.#base = base;
  }

  async writeManifest(manifest: Manifest): Promise<void> {
    await this.#store.put(`${this.#base}${MANIFEST_FILE}`, bundleJson(manifest), JSON_TYPE);
  }

  async writeInventory(inventory: Inventory): Promise<void> {
    await this.#store.put(`${this.#base}${INVENTORY_FILE}`, bundleJson(inventory), JSON_TYPE);
  }

  /** Stores the invocation unless a record as final or more is stored (see S3AuditStore.putRecord). */
  async writeInvocation(invocation: Invocation): Promise<void> {
    await this.writeRecord(invocation);
  }

  async writeRecord(invocation: Invocation, options?: RecordWriteOptions): Promise<RecordWrite> {
    return this.#store.putRecord(`${this.#base}${invocationPath(invocation)}`, invocation, options);
  }

  async writeCluster(cluster: ClusterEvidence): Promise<void> {
    const files = clusterFiles(cluster);
    // S3 has no directories: an empty marker keeps "the mesh was read and gave nothing" apart from "never read".
    if (files.length === 0) await this.#store.put(`${this.#base}${CLUSTER_DIR}/`, '', 'application/x-directory');
    await mapBounded(files, this.#store.writeConcurrency, (file) =>
      this.#store.put(`${this.#base}${file.path}`, bundleJson(file.value), JSON_TYPE),
    );
  }

  /** One part of the bundle, read and validated alone (no listing of the rest). */
  async readPart<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const location = this.#store.url(`${this.#base}${path}`);
    const text = await this.#store.getForBundle(`${this.#base}${path}`, fileLimitOf(path));
    if (text === undefined) throw new BundleError(`${location}: cannot be read (NoSuchKey)`);
    return parseBundleText(location, text, schema);
  }

  async readBundle(): Promise<EvidenceBundle> {
    return readEvidenceBundle(await this.#source(), { concurrency: this.#store.readConcurrency });
  }

  async readDigested<D>(digest: (invocation: Invocation) => D): Promise<DigestedBundle<D>> {
    return readDigestedBundle(await this.#source(), digest, { concurrency: this.#store.readConcurrency });
  }

  async storedInvocations(): Promise<Set<string>> {
    const prefix = `${this.#base}${INVOCATIONS_DIR}/`;
    const ids = new Set<string>();
    for (const key of await this.#store.listKeys(prefix)) {
      const id = instanceIdOfInvocationFile(key.slice(prefix.length));
      if (id) ids.add(id);
    }
    return ids;
  }

  /** A view of the bundle from one listing, so optional parts that are absent cost no request. */
  async #source(): Promise<BundleSource> {
    const store = this.#store;
    const base = this.#base;
    const sizes = new Map((await store.listObjects(base)).map((object) => [object.key.slice(base.length), object.size]));
    return {
      locate: (path) => store.url(`${base}${path}`),
      missingMessage: `${store.url(base)}: no such bundle (no object under this prefix)`,
      missingCode: 'NoSuchKey',
      exists: async () => sizes.size > 0,
      hasDirectory: async (dir) => [...sizes.keys()].some((key) => key.startsWith(`${dir}/`)),
      listJson: async (dir) => storedNamesIn(dir, [...sizes.keys()], (path) => store.url(`${base}${path}`)),
      readText: async (path, limit) => {
        if (!sizes.has(path)) return undefined;
        const listed = sizes.get(path);
        // The listing already tells a file too large: refused without a request.
        if (listed !== undefined && listed > limit) throw new BundleFileTooLargeError(store.url(`${base}${path}`), listed, limit);
        return store.getForBundle(`${base}${path}`, limit);
      },
    };
  }
}

/**
 * The names of the objects directly under `dir/` that the writer could have written, sorted. Any other
 * key there (`evil.json`, `I-0123….json`, `../x`, a deeper key) stops the read, naming it; only an empty
 * "folder" marker (`dir/`, as consoles create) is passed over.
 */
function storedNamesIn(dir: string, keys: readonly string[], url: (path: string) => string): string[] {
  const names: string[] = [];
  for (const key of keys) {
    if (!key.startsWith(`${dir}/`)) continue;
    const name = key.slice(dir.length + 1);
    if (name === '') continue;
    if (!isStoredFileName(dir, name))
      throw new BundleError(
        `${url(`${dir}/`)}: holds ${quoteStoredName(name)}, which is not a name this tool writes there (${dir}/${storedFileNameRule(dir)})`,
      );
    names.push(name);
  }
  return names.sort();
}

/** Writes a run's reports beside its evidence; each appears whole (one PutObject, or a completed multipart upload), so no reader sees half a report. */
class S3ArtifactWriter implements ArtifactWriter {
  readonly #store: S3AuditStore;
  readonly #base: string;

  constructor(store: S3AuditStore, base: string) {
    this.#store = store;
    this.#base = base;
  }

  async writeArtifact(artifact: Artifact): Promise<string> {
    if (!ARTIFACT_NAME.test(artifact.name)) throw new BundleError(`refusing to store a report named ${JSON.stringify(artifact.name)}`);
    const key = `${this.#base}${artifact.name}`;
    return typeof artifact.body === 'string'
      ? this.#store.put(key, artifact.body, artifact.contentType)
      : this.#store.putStreamed(key, artifact.body, artifact.contentType);
  }
}

/** A conditional write that did not hold (412), lost a race with another one (409), or found its object gone (404). */
function isLostCondition(error: unknown): boolean {
  const code = errorCode(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return ['PreconditionFailed', 'ConditionalRequestConflict', 'NoSuchKey'].includes(code) || status === 412 || status === 409;
}
