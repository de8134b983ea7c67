import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import {
  BUNDLE_VERSION,
  ConfigMapSchema,
  InventorySchema,
  InvocationSchema,
  KubeListSchema,
  ManifestSchema,
  SynczSchema,
  type ClusterEvidence,
  type ConfigMap,
  type EvidenceBundle,
  type Inventory,
  type Invocation,
  type Manifest,
} from '../core/evidence-bundle.ts';
import type { Artifact, ArtifactWriter, AuditStore, EvidenceReader, EvidenceWriter, RunStorage } from '../ports/audit-store.ts';

/** A bundle on disk is malformed or missing; the message names the file and the problem. */
export class BundleError extends Error {
  override name = 'BundleError';
}

// Names that become file names must never climb out of the bundle directory.
const INSTANCE_ID = /^(?:i|mi)-[0-9a-f]{8,32}$/;
const K8S_NAME = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Writes a file so that a reader sees the old content or the new, never half of it. */
export async function writeFileAtomic(path: string, body: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, body, { mode: 0o644 });
  await rename(tmp, path);
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** An evidence bundle in a directory, laid out as DESIGN.md contract 1 says. */
export class LocalBundle implements EvidenceWriter, EvidenceReader {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async writeManifest(manifest: Manifest): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, 'manifest.json'), json(manifest));
  }

  async writeInventory(inventory: Inventory): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, 'inventory.json'), json(inventory));
  }

  async writeInvocation(invocation: Invocation): Promise<void> {
    if (!INSTANCE_ID.test(invocation.InstanceId)) throw new BundleError(`refusing to store an invocation for instance id ${JSON.stringify(invocation.InstanceId)}: not an SSM managed node id`);
    const dir = join(this.dir, 'invocations');
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, `${invocation.InstanceId}.json`), json(invocation));
  }

  async writeCluster(cluster: ClusterEvidence): Promise<void> {
    const dir = join(this.dir, 'cluster');
    await mkdir(join(dir, 'syncz'), { recursive: true });
    await mkdir(join(dir, 'root-ca'), { recursive: true });
    if (cluster.workloadEntries) await writeFileAtomic(join(dir, 'workloadentries.json'), json(cluster.workloadEntries));
    if (cluster.workloadGroups) await writeFileAtomic(join(dir, 'workloadgroups.json'), json(cluster.workloadGroups));
    if (cluster.istiodPods) await writeFileAtomic(join(dir, 'istiod-pods.json'), json(cluster.istiodPods));
    for (const [pod, syncz] of Object.entries(cluster.syncz)) {
      if (!K8S_NAME.test(pod)) throw new BundleError(`refusing to store syncz for pod name ${JSON.stringify(pod)}`);
      await writeFileAtomic(join(dir, 'syncz', `${pod}.json`), json(syncz));
    }
    for (const [namespace, configMap] of Object.entries(cluster.rootCa)) {
      if (!K8S_NAME.test(namespace)) throw new BundleError(`refusing to store a root CA for namespace ${JSON.stringify(namespace)}`);
      await writeFileAtomic(join(dir, 'root-ca', `${namespace}.json`), json(configMap));
    }
  }

  /** Reads and validates the whole bundle; throws BundleError naming the first bad file. */
  async readBundle(): Promise<EvidenceBundle> {
    if (!(await isDirectory(this.dir))) throw new BundleError(`${this.dir}: no such bundle directory`);
    const manifest = await this.#readRequired('manifest.json', ManifestSchema, (raw) => {
      const version = (raw as { bundleVersion?: unknown } | null)?.bundleVersion;
      return version !== BUNDLE_VERSION ? `bundleVersion ${JSON.stringify(version)} is not supported (this tool reads bundleVersion ${BUNDLE_VERSION})` : undefined;
    });
    const inventory = (await this.#readOptional('inventory.json', InventorySchema)) ?? { InstanceInformationList: [] };
    const invocations: Record<string, Invocation> = {};
    for (const file of await listJson(join(this.dir, 'invocations'))) {
      const invocation = await this.#readRequired(join('invocations', file), InvocationSchema);
      if (`${invocation.InstanceId}.json` !== file) throw new BundleError(`${join(this.dir, 'invocations', file)}: holds InstanceId ${invocation.InstanceId}, not the one its name says`);
      invocations[invocation.InstanceId] = invocation;
    }
    return { manifest, inventory, invocations, ...(await this.#readCluster()) };
  }

  async #readCluster(): Promise<{ cluster?: ClusterEvidence }> {
    if (!(await isDirectory(join(this.dir, 'cluster')))) return {};
    const syncz: Record<string, unknown[]> = {};
    for (const file of await listJson(join(this.dir, 'cluster', 'syncz'))) {
      syncz[file.replace(/\.json$/, '')] = await this.#readRequired(join('cluster', 'syncz', file), SynczSchema);
    }
    const rootCa: Record<string, ConfigMap> = {};
    for (const file of await listJson(join(this.dir, 'cluster', 'root-ca'))) {
      rootCa[file.replace(/\.json$/, '')] = await this.#readRequired(join('cluster', 'root-ca', file), ConfigMapSchema);
    }
    const workloadEntries = await this.#readOptional(join('cluster', 'workloadentries.json'), KubeListSchema);
    const workloadGroups = await this.#readOptional(join('cluster', 'workloadgroups.json'), KubeListSchema);
    const istiodPods = await this.#readOptional(join('cluster', 'istiod-pods.json'), KubeListSchema);
    return {
      cluster: {
        ...(workloadEntries ? { workloadEntries } : {}),
        ...(workloadGroups ? { workloadGroups } : {}),
        ...(istiodPods ? { istiodPods } : {}),
        syncz,
        rootCa,
      },
    };
  }

  async #readOptional<T>(relative: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const path = join(this.dir, relative);
    if (!(await exists(path))) return undefined;
    return this.#readRequired(relative, schema);
  }

  async #readRequired<T>(relative: string, schema: z.ZodType<T>, precheck?: (raw: unknown) => string | undefined): Promise<T> {
    const path = join(this.dir, relative);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      throw new BundleError(`${path}: cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      throw new BundleError(`${path}: is not valid JSON (${(cause as Error).message})`);
    }
    const problem = precheck?.(raw);
    if (problem) throw new BundleError(`${path}: ${problem}`);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BundleError(`${path}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
    }
    return parsed.data;
  }
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
    await writeFileAtomic(path, artifact.body);
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
    if (!RUN_ID.test(runId)) throw new BundleError(`run id ${JSON.stringify(runId)} is not a safe directory name`);
    const dir = join(this.root, runId);
    if (await exists(dir)) throw new BundleError(`${dir}: a run with this id is already stored`);
    return { location: dir, evidence: new LocalBundle(join(dir, 'evidence')), reports: new LocalArtifactWriter(dir) };
  }
}

async function listJson(dir: string): Promise<string[]> {
  if (!(await isDirectory(dir))) return [];
  return (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
