import type { z } from 'zod';
import type { ClusterEvidence, EvidenceBundle, Inventory, Invocation, Manifest } from '../core/evidence-bundle.ts';
import type { DigestedBundle, EvidenceReader, EvidenceWriter } from '../ports/audit-store.ts';
import type { RecordWrite, RecordWriteOptions } from '../ports/run-registry.ts';
import {
  BundleError,
  BundleFileTooLargeError,
  bundleJson,
  clusterFiles,
  CLUSTER_DIR,
  fileLimitOf,
  INVENTORY_FILE,
  instanceIdOfInvocationFile,
  INVOCATIONS_DIR,
  invocationPath,
  isStoredFileName,
  MANIFEST_FILE,
  parseBundleText,
  quoteStoredName,
  readDigestedBundle,
  readEvidenceBundle,
  storedFileNameRule,
  type BundleSource,
} from './bundle-layout.ts';
import type { S3ObjectAccess } from './s3-object-access.ts';
import { mapBounded } from '../shared/bounded-concurrency.ts';

export const JSON_TYPE = 'application/json; charset=utf-8';

/** One run's evidence bundle under `…/evidence/`. */
export class S3Bundle implements EvidenceWriter, EvidenceReader {
  readonly #store: S3ObjectAccess;
  readonly #base: string;

  constructor(store: S3ObjectAccess, base: string) {
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
