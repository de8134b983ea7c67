import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  InvocationSchema,
  type ClusterEvidence,
  type EvidenceBundle,
  type Inventory,
  type Invocation,
  type Manifest,
} from '../core/evidence-bundle.ts';
import { mayReplaceRecord, recordFinality, RECORD_FINALITY } from '../core/record-finality.ts';
import type {
  Artifact,
  ArtifactWriter,
  AuditStore,
  DigestedBundle,
  EvidenceReader,
  EvidenceWriter,
  RunStorage,
} from '../ports/audit-store.ts';
import {
  BUNDLE_FILE_LIMITS,
  BundleError,
  bundleJson as json,
  clusterFiles,
  CLUSTER_DIR,
  INVENTORY_FILE,
  invocationPath,
  isRunId,
  isStoredFileName,
  MANIFEST_FILE,
  quoteStoredName,
  readDigestedBundle,
  readEvidenceBundle,
  storedFileNameRule,
  type BundleSource,
} from './bundle-layout.ts';
import { ContainedDirectory, notRegularFileError } from './safe-read.ts';
import { utf8Blocks } from './text-blocks.ts';
import { mapBounded } from '../shared/bounded-concurrency.ts';

export { BundleError } from './bundle-layout.ts';

/** Writes a file so that a reader sees the old content or the new, never half of it. */
export async function writeFileAtomic(path: string, body: string | Iterable<string>, mode = EVIDENCE_FILE_MODE): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  // A body in chunks is written as it is made, a block at a time, so the whole text is never held.
  await writeFile(tmp, typeof body === 'string' ? body : utf8Blocks(body), { mode });
  await rename(tmp, path);
}

// The name writeFileAtomic gives its temporary file, left behind only when a write was interrupted.
const TEMPORARY_FILE = /^(?<name>.+)\.tmp-\d+-[0-9a-z]*$/;

// Evidence holds what the VMs printed (their configuration, addresses, certificates): only its owner reads it.
// Reports are made to be shared.
const EVIDENCE_FILE_MODE = 0o600;
const EVIDENCE_DIR_MODE = 0o700;
const REPORT_FILE_MODE = 0o644;
const WRITE_CONCURRENCY = 8;

// The tail of the writes queued per record path: a read-compare-write of one record never interleaves with another.
const recordQueues = new Map<string, Promise<void>>();

async function serialized(path: string, work: () => Promise<void>): Promise<void> {
  const before = recordQueues.get(path) ?? Promise.resolve();
  const mine = before.then(work, work);
  const tail = mine.catch(() => undefined);
  recordQueues.set(path, tail);
  try {
    await mine;
  } finally {
    if (recordQueues.get(path) === tail) recordQueues.delete(path);
  }
}

/** An evidence bundle in a directory, laid out as docs/design.md says. */
export class LocalBundle implements EvidenceWriter, EvidenceReader {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async writeManifest(manifest: Manifest): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: EVIDENCE_DIR_MODE });
    await writeFileAtomic(join(this.dir, MANIFEST_FILE), json(manifest));
  }

  async writeInventory(inventory: Inventory): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: EVIDENCE_DIR_MODE });
    await writeFileAtomic(join(this.dir, INVENTORY_FILE), json(inventory));
  }

  /**
   * Stores the invocation unless a record as final or more is stored (record-finality.ts). Writes of one
   * record are serialized in this process, which is the only writer of a local bundle (the CLI's run).
   */
  async writeInvocation(invocation: Invocation): Promise<void> {
    const relative = invocationPath(invocation);
    const path = join(this.dir, relative);
    await serialized(path, async () => {
      // Read as the bundle reader reads: a FIFO or a link to a device at the record's name would otherwise
      // block this write forever or read without end. What cannot be read as a record is no record, and the
      // rename below replaces the entry itself, never what a link points to.
      const stored = await new ContainedDirectory(this.dir).readText(relative, BUNDLE_FILE_LIMITS.invocation).then(
        (text) => {
          if (text === undefined) return RECORD_FINALITY.none;
          try {
            const parsed = InvocationSchema.safeParse(JSON.parse(text));
            return parsed.success ? recordFinality(parsed.data) : RECORD_FINALITY.none;
          } catch {
            return RECORD_FINALITY.none;
          }
        },
        () => RECORD_FINALITY.none,
      );
      if (stored !== RECORD_FINALITY.none && !mayReplaceRecord(stored, recordFinality(invocation))) return;
      await mkdir(dirname(path), { recursive: true, mode: EVIDENCE_DIR_MODE });
      await writeFileAtomic(path, json(invocation));
    });
  }

  async writeCluster(cluster: ClusterEvidence): Promise<void> {
    const files = clusterFiles(cluster);
    const dir = join(this.dir, CLUSTER_DIR);
    await mkdir(join(dir, 'syncz'), { recursive: true, mode: EVIDENCE_DIR_MODE });
    await mkdir(join(dir, 'root-ca'), { recursive: true, mode: EVIDENCE_DIR_MODE });
    await mapBounded(files, WRITE_CONCURRENCY, (file) => writeFileAtomic(join(this.dir, file.path), json(file.value)));
  }

  /** Reads and validates the whole bundle; throws BundleError naming the first bad file. */
  async readBundle(): Promise<EvidenceBundle> {
    return readEvidenceBundle(this.#source());
  }

  async readDigested<D>(digest: (invocation: Invocation) => D): Promise<DigestedBundle<D>> {
    return readDigestedBundle(this.#source(), digest);
  }

  #source(): BundleSource {
    const tree = new ContainedDirectory(this.dir);
    return {
      locate: (path) => tree.location(path),
      missingMessage: `${this.dir}: no such bundle directory`,
      missingCode: 'ENOENT',
      exists: () => tree.exists(),
      hasDirectory: (path) => tree.isDirectory(path),
      listJson: (path) => listStoredFiles(tree, path),
      readText: (path, limit) => tree.readText(path, limit),
    };
  }
}

/**
 * The files of a listed directory the writer could have written, sorted. Anything else there stops the
 * read, naming it: a bundle is evidence, and a file that is not the writer's (`evil.json`, a link, a FIFO
 * named like a VM) is not quietly skipped either. Only the writer's own leftovers of an interrupted
 * atomic write (`<name>.tmp-<pid>-<random>`, never renamed into place) are passed over.
 */
async function listStoredFiles(tree: ContainedDirectory, dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const { name, kind } of await tree.entries(dir)) {
    const location = tree.location(`${dir}/${name}`);
    if (isStoredFileName(dir, name)) {
      if (kind !== 'file') throw notRegularFileError(location, kind);
      names.push(name);
    } else if (!isInterruptedWrite(dir, name)) {
      throw new BundleError(
        `${tree.location(dir)}: holds ${quoteStoredName(name)}, which is not a name this tool writes there (${dir}/${storedFileNameRule(dir)})`,
      );
    }
  }
  return names.sort();
}

function isInterruptedWrite(dir: string, name: string): boolean {
  const match = TEMPORARY_FILE.exec(name);
  return match !== null && isStoredFileName(dir, match.groups!.name!);
}

/** Writes reports into a directory, each file atomically. */
export class LocalArtifactWriter implements ArtifactWriter {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async writeArtifact(artifact: Artifact): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, artifact.name);
    await writeFileAtomic(path, artifact.body, REPORT_FILE_MODE);
    return path;
  }
}

/** The audit store as a local directory: `<root>/<runId>/evidence/` and `<root>/<runId>/report.*`. */
export class LocalAuditStore implements AuditStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async openRun(runId: string): Promise<RunStorage> {
    if (!isRunId(runId)) throw new BundleError(`run id ${JSON.stringify(runId)} is not a safe directory name`);
    const dir = join(this.root, runId);
    if (await exists(dir)) throw new BundleError(`${dir}: a run with this id is already stored`);
    return { location: dir, evidence: new LocalBundle(join(dir, 'evidence')), reports: new LocalArtifactWriter(dir) };
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
