import type { z } from 'zod';
import {
  BUNDLE_VERSION,
  ClusterReadProblemsSchema,
  ConfigMapSchema,
  InventorySchema,
  InvocationSchema,
  KubeListSchema,
  ManifestSchema,
  SynczSchema,
  type ClusterEvidence,
  type ConfigMap,
  type EvidenceBundle,
  type Invocation,
} from '../core/evidence-bundle.ts';
import type { DigestedBundle } from '../ports/audit-store.ts';
import { describeJsonSyntaxError, issueMessageOf, schemaPathOf } from './content-free-errors.ts';
import { BadInputError } from '../shared/errors.ts';
import { mapBounded } from '../shared/bounded-concurrency.ts';
import { isInstanceId } from '../shared/identifiers.ts';

/**
 * The layout of an evidence bundle (docs/design.md) shared by every store that keeps one (a
 * directory, an S3 prefix): which names may become file names, where each part goes, and how a stored
 * bundle is read back and validated, with messages naming the file or object at fault.
 */

/** A stored bundle is malformed or missing; the message names the file (or object) and the problem. */
export class BundleError extends BadInputError {
  override name = 'BundleError';
}

/** A stored file is larger than its part of the bundle may be; it was not read. */
export class BundleFileTooLargeError extends BundleError {
  override name = 'BundleFileTooLargeError';
  readonly location: string;
  readonly size: number;
  readonly limit: number;

  constructor(location: string, size: number, limit: number) {
    super(`${location}: holds ${size} bytes, more than the ${limit} bytes its part of the bundle may hold`);
    this.location = location;
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The most each stored file may hold, in bytes. An invocation holds one VM's output (at most
 * MAX_VM_OUTPUT_BYTES) JSON-escaped, which can grow it up to six times; the cluster parts grow with the
 * fleet (a 10,000-entry WorkloadEntry list is about 10 MB).
 */
export const BUNDLE_FILE_LIMITS = {
  manifest: 1024 * 1024,
  inventory: 64 * 1024 * 1024,
  invocation: 32 * 1024 * 1024,
  cluster: 256 * 1024 * 1024,
} as const;

// Names that become file names or object keys must never climb out of the bundle.
const K8S_NAME = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;
export { isInstanceId, isRunId } from '../shared/identifiers.ts';

/** The bundle's JSON as stored: two-space indented, with a final newline. */
export function bundleJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** One file of a bundle: its path relative to the bundle root (always `/`-separated) and its content. */
export interface BundleFile {
  path: string;
  value: unknown;
}

export const MANIFEST_FILE = 'manifest.json';
export const INVENTORY_FILE = 'inventory.json';
export const INVOCATIONS_DIR = 'invocations';
export const CLUSTER_DIR = 'cluster';

/** Where an invocation goes; throws BundleError when its InstanceId is not a managed node id. */
export function invocationPath(invocation: Invocation): string {
  if (!isInstanceId(invocation.InstanceId))
    throw new BundleError(
      `refusing to store an invocation for instance id ${JSON.stringify(invocation.InstanceId)}: not an SSM managed node id`,
    );
  return `${INVOCATIONS_DIR}/${invocation.InstanceId}.json`;
}

/** The instance id an invocation file name stands for, or undefined for a name that is not one. */
export function instanceIdOfInvocationFile(file: string): string | undefined {
  const id = file.endsWith('.json') ? file.slice(0, -'.json'.length) : undefined;
  return id !== undefined && isInstanceId(id) ? id : undefined;
}

/** The directories whose files are listed rather than named: each holds only files named by one rule. */
export const SYNCZ_DIR = `${CLUSTER_DIR}/syncz`;
export const ROOT_CA_DIR = `${CLUSTER_DIR}/root-ca`;

/**
 * True for a name the writer could have given a file in `dir` (one of the listed directories): an
 * invocation is `<SSM managed node id>.json`, a syncz answer `<istiod pod name>.json`, a root CA
 * `<namespace>.json`. A reader lists only these, and refuses a directory holding anything else, so a file
 * named like a VM but not by the rule is never read as one.
 */
export function isStoredFileName(dir: string, name: string): boolean {
  if (dir === INVOCATIONS_DIR) return instanceIdOfInvocationFile(name) !== undefined;
  if (dir === SYNCZ_DIR || dir === ROOT_CA_DIR) return name.endsWith('.json') && K8S_NAME.test(name.slice(0, -'.json'.length));
  return false;
}

/** How the names of `dir` must look, for the message refusing another name. */
export function storedFileNameRule(dir: string): string {
  if (dir === INVOCATIONS_DIR) return '<SSM managed node id>.json';
  if (dir === SYNCZ_DIR) return '<istiod pod name>.json';
  if (dir === ROOT_CA_DIR) return '<namespace>.json';
  return 'nothing (no file is listed there)';
}

/** A name taken from a listing, quoted for a message: printable ASCII only, so it cannot drive a terminal. */
export function quoteStoredName(name: string): string {
  return JSON.stringify(name).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The files of the cluster part, in writing order. Every name is checked before any file is returned, so a
 * bad pod or namespace name stores nothing.
 */
export function clusterFiles(cluster: ClusterEvidence): BundleFile[] {
  for (const pod of Object.keys(cluster.syncz)) {
    if (!K8S_NAME.test(pod)) throw new BundleError(`refusing to store syncz for pod name ${JSON.stringify(pod)}`);
  }
  for (const namespace of Object.keys(cluster.rootCa)) {
    if (!K8S_NAME.test(namespace)) throw new BundleError(`refusing to store a root CA for namespace ${JSON.stringify(namespace)}`);
  }
  const files: BundleFile[] = [];
  if (cluster.workloadEntries) files.push({ path: `${CLUSTER_DIR}/workloadentries.json`, value: cluster.workloadEntries });
  if (cluster.workloadGroups) files.push({ path: `${CLUSTER_DIR}/workloadgroups.json`, value: cluster.workloadGroups });
  if (cluster.istiodPods) files.push({ path: `${CLUSTER_DIR}/istiod-pods.json`, value: cluster.istiodPods });
  if (cluster.services) files.push({ path: `${CLUSTER_DIR}/services.json`, value: cluster.services });
  if (cluster.serviceEntries) files.push({ path: `${CLUSTER_DIR}/serviceentries.json`, value: cluster.serviceEntries });
  if (cluster.problems && cluster.problems.length > 0) files.push({ path: `${CLUSTER_DIR}/problems.json`, value: cluster.problems });
  for (const [pod, syncz] of Object.entries(cluster.syncz)) files.push({ path: `${CLUSTER_DIR}/syncz/${pod}.json`, value: syncz });
  for (const [namespace, configMap] of Object.entries(cluster.rootCa))
    files.push({ path: `${CLUSTER_DIR}/root-ca/${namespace}.json`, value: configMap });
  return files;
}

/** Where a bundle's files are read from: a directory, an S3 prefix. Paths are relative and `/`-separated. */
export interface BundleSource {
  /** How a file is named in messages (a path, an s3:// URL). */
  locate(path: string): string;
  /** The message for a bundle that is not there at all. */
  readonly missingMessage: string;
  /** The error code a missing file reports (ENOENT, NoSuchKey), for the message about a missing required file. */
  readonly missingCode: string;
  /** False when there is no bundle at all. */
  exists(): Promise<boolean>;
  /** True when the directory (or key prefix) holds anything. */
  hasDirectory(dir: string): Promise<boolean>;
  /**
   * The names of the files directly in a listed directory (INVOCATIONS_DIR, SYNCZ_DIR, ROOT_CA_DIR),
   * sorted; none when it does not exist. Throws BundleError naming the entry when the directory holds
   * anything but regular files named by isStoredFileName, or is itself a link.
   */
  listJson(dir: string): Promise<string[]>;
  /**
   * The file's text, or undefined when there is no such file; throws BundleFileTooLargeError when it holds
   * more than `limit` bytes (never reading more than `limit` + 1 of them), BundleError when it is not a
   * regular file inside the bundle (a link, a FIFO, a device) or cannot be read. Bytes that are not UTF-8
   * become U+FFFD.
   */
  readText(path: string, limit: number): Promise<string | undefined>;
}

export interface ReadBundleOptions {
  /** Files read at once (default 1). */
  concurrency?: number;
}

/** Reads and validates a whole bundle; throws BundleError naming the first bad file in reading order. */
export async function readEvidenceBundle(source: BundleSource, options: ReadBundleOptions = {}): Promise<EvidenceBundle> {
  const { invocations, ...rest } = await readDigestedBundle(source, (invocation) => invocation, options);
  return { ...rest, invocations: Object.fromEntries(invocations) };
}

/**
 * Reads and validates a bundle, passing each invocation to `digest` as soon as it is read, so a fleet's
 * raw outputs are never all held at once (the analysis keeps only each VM's parsed snapshot). An
 * invocation file larger than its limit harms only its VM: it is not read, and its record says why
 * (FleetAuditCollectionError, the VM's COLLECT-01 is ERROR). Any other bad file is a BundleError.
 */
export async function readDigestedBundle<D>(
  source: BundleSource,
  digest: (invocation: Invocation) => D,
  options: ReadBundleOptions = {},
): Promise<DigestedBundle<D>> {
  if (!(await source.exists())) throw new BundleError(source.missingMessage);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const manifest = await readRequired(source, MANIFEST_FILE, ManifestSchema, (raw) => {
    const version = (raw as { bundleVersion?: unknown } | null)?.bundleVersion;
    return version !== BUNDLE_VERSION
      ? `bundleVersion ${JSON.stringify(version)} is not supported (this tool reads bundleVersion ${BUNDLE_VERSION})`
      : undefined;
  });
  const inventory = (await readOptional(source, INVENTORY_FILE, InventorySchema)) ?? { InstanceInformationList: [] };
  const files = await source.listJson(INVOCATIONS_DIR);
  const read = await mapBounded(files, concurrency, async (file) => digest(await readInvocation(source, file)));
  const invocations = new Map<string, D>();
  files.forEach((file, i) => invocations.set(instanceIdOfInvocationFile(file)!, read[i]!));
  return { manifest, inventory, invocations, ...(await readCluster(source, concurrency)) };
}

/** One invocation file; too large, it becomes a record of that, so the rest of the bundle is still read. */
async function readInvocation(source: BundleSource, file: string): Promise<Invocation> {
  const path = `${INVOCATIONS_DIR}/${file}`;
  const instanceId = instanceIdOfInvocationFile(file)!;
  let invocation: Invocation;
  try {
    invocation = await readRequired(source, path, InvocationSchema);
  } catch (error) {
    if (!(error instanceof BundleFileTooLargeError)) throw error;
    return {
      InstanceId: instanceId,
      Status: 'Unread',
      FleetAuditCollectionError: `the stored record of this VM's invocation holds ${error.size} bytes, more than the ${error.limit} bytes one VM's record may hold: its output was not read`,
    };
  }
  if (invocation.InstanceId !== instanceId)
    throw new BundleError(`${source.locate(path)}: holds the InstanceId of another VM than its name says`);
  return invocation;
}

async function readCluster(source: BundleSource, concurrency: number): Promise<{ cluster?: ClusterEvidence }> {
  if (!(await source.hasDirectory(CLUSTER_DIR))) return {};
  const synczFiles = await source.listJson(`${CLUSTER_DIR}/syncz`);
  const synczRead = await mapBounded(synczFiles, concurrency, (file) => readRequired(source, `${CLUSTER_DIR}/syncz/${file}`, SynczSchema));
  const syncz: Record<string, unknown[]> = {};
  synczFiles.forEach((file, i) => (syncz[file.replace(/\.json$/, '')] = synczRead[i]!));
  const rootCaFiles = await source.listJson(`${CLUSTER_DIR}/root-ca`);
  const rootCaRead = await mapBounded(rootCaFiles, concurrency, (file) =>
    readRequired(source, `${CLUSTER_DIR}/root-ca/${file}`, ConfigMapSchema),
  );
  const rootCa: Record<string, ConfigMap> = {};
  rootCaFiles.forEach((file, i) => (rootCa[file.replace(/\.json$/, '')] = rootCaRead[i]!));
  const workloadEntries = await readOptional(source, `${CLUSTER_DIR}/workloadentries.json`, KubeListSchema);
  const workloadGroups = await readOptional(source, `${CLUSTER_DIR}/workloadgroups.json`, KubeListSchema);
  const istiodPods = await readOptional(source, `${CLUSTER_DIR}/istiod-pods.json`, KubeListSchema);
  const services = await readOptional(source, `${CLUSTER_DIR}/services.json`, KubeListSchema);
  const serviceEntries = await readOptional(source, `${CLUSTER_DIR}/serviceentries.json`, KubeListSchema);
  const problems = await readOptional(source, `${CLUSTER_DIR}/problems.json`, ClusterReadProblemsSchema);
  return {
    cluster: {
      ...(workloadEntries ? { workloadEntries } : {}),
      ...(workloadGroups ? { workloadGroups } : {}),
      ...(istiodPods ? { istiodPods } : {}),
      ...(services ? { services } : {}),
      ...(serviceEntries ? { serviceEntries } : {}),
      syncz,
      rootCa,
      ...(problems ? { problems } : {}),
    },
  };
}

/** The size limit of the file at `path`, by the part of the bundle it belongs to. */
export function fileLimitOf(path: string): number {
  if (path === MANIFEST_FILE) return BUNDLE_FILE_LIMITS.manifest;
  if (path === INVENTORY_FILE) return BUNDLE_FILE_LIMITS.inventory;
  if (path.startsWith(`${INVOCATIONS_DIR}/`)) return BUNDLE_FILE_LIMITS.invocation;
  return BUNDLE_FILE_LIMITS.cluster;
}

async function readOptional<T>(source: BundleSource, path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const text = await source.readText(path, fileLimitOf(path));
  return text === undefined ? undefined : parseBundleText(source.locate(path), text, schema);
}

async function readRequired<T>(
  source: BundleSource,
  path: string,
  schema: z.ZodType<T>,
  precheck?: (raw: unknown) => string | undefined,
): Promise<T> {
  const text = await source.readText(path, fileLimitOf(path));
  if (text === undefined) throw new BundleError(`${source.locate(path)}: cannot be read (${source.missingCode})`);
  return parseBundleText(source.locate(path), text, schema, precheck);
}

/**
 * Parses one stored file against its schema; throws BundleError naming `location` and the first problem.
 * A leading byte-order mark is skipped (editors on Windows write one). The message says where the problem
 * is, never what the file holds (see content-free-errors.ts).
 */
export function parseBundleText<T>(
  location: string,
  text: string,
  schema: z.ZodType<T>,
  precheck?: (raw: unknown) => string | undefined,
): T {
  const body = text.charCodeAt(0) === BYTE_ORDER_MARK ? text.slice(1) : text;
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new BundleError(`${location}: is not valid JSON (${describeJsonSyntaxError(body)})`);
  }
  const problem = precheck?.(raw);
  if (problem) throw new BundleError(`${location}: ${problem}`);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BundleError(`${location}: ${issue ? `${schemaPathOf(schema, issue.path)}: ${issueMessageOf(issue)}` : 'invalid'}`);
  }
  return parsed.data;
}

const BYTE_ORDER_MARK = 0xfeff;
