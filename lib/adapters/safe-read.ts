import { constants, type Dirent, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError, BundleFileTooLargeError, quoteStoredName } from './bundle-layout.ts';

/**
 * Reads files of a directory tree that someone else may have prepared to trick us. The root is the
 * caller's choice and may be reached through a link; below it only real directories and regular files are
 * read: a link (to a secret, to /dev/zero, out of the tree or back into it), a FIFO (which would block an
 * open or a read forever), a device or a socket is refused with a BundleError naming it, without being
 * opened. A file is opened without following a link and without blocking, checked again on the open
 * handle, and read up to its limit + 1 bytes at most, so a file that grows while read costs no more.
 */
export class ContainedDirectory {
  readonly root: string;
  #realRoot: Promise<string | undefined> | undefined;
  readonly #directories = new Map<string, Promise<boolean>>();

  constructor(root: string) {
    this.root = root;
  }

  /** How `path` (relative, `/`-separated) is named in messages. */
  location(path: string): string {
    return join(this.root, path);
  }

  /** True when the root is a directory (the root itself may be a link: the caller chose it). */
  async exists(): Promise<boolean> {
    return stat(this.root).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  /**
   * True when `path` is a real directory; false when it is absent; BundleError when it is anything else.
   * Each directory is looked at once per tree (a bundle's files share a few directories); a directory
   * swapped for a link afterwards is caught when a file under it is opened.
   */
  async isDirectory(path: string): Promise<boolean> {
    const segments = segmentsOf(path);
    for (let k = 1; k <= segments.length; k++) {
      const prefix = segments.slice(0, k).join('/');
      let found = this.#directories.get(prefix);
      if (!found) {
        found = this.#directoryAt(prefix);
        this.#directories.set(prefix, found);
      }
      if (!(await found)) return false;
    }
    return true;
  }

  /** The entries of the directory `path` (none when it is absent), each with what kind of file it is. */
  async entries(path: string): Promise<Array<{ name: string; kind: FileKind }>> {
    if (!(await this.isDirectory(path))) return [];
    let listed: Dirent[];
    try {
      listed = await readdir(this.location(path), { withFileTypes: true });
    } catch (cause) {
      throw new BundleError(`${this.location(path)}: cannot be listed (${codeOf(cause)})`);
    }
    return listed.map((entry) => ({ name: entry.name, kind: kindOf(entry) }));
  }

  /**
   * The text of the regular file at `path`, or undefined when there is none. Throws BundleFileTooLargeError
   * when it holds more than `limit` bytes, BundleError when it is not a regular file of the tree.
   */
  async readText(path: string, limit: number): Promise<string | undefined> {
    const segments = segmentsOf(path);
    if (segments.length > 1 && !(await this.isDirectory(segments.slice(0, -1).join('/')))) return undefined;
    const location = this.location(path);
    let before: Stats;
    try {
      before = await lstat(location);
    } catch (cause) {
      if (codeOf(cause) === 'ENOENT') return undefined;
      throw new BundleError(`${location}: cannot be read (${codeOf(cause)})`);
    }
    // Refused before opening: opening a device can have effects of its own, opening a FIFO can block.
    refuseUnlessRegular(location, before);
    if (before.size > limit) throw new BundleFileTooLargeError(location, before.size, limit);
    let handle: FileHandle;
    try {
      handle = await open(location, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (cause) {
      const code = codeOf(cause);
      if (code === 'ENOENT') return undefined;
      if (code === 'ELOOP' || code === 'EMLINK') throw new BundleError(`${location}: is a symbolic link; a bundle holds none`);
      throw new BundleError(`${location}: cannot be read (${code})`);
    }
    try {
      // The file may have been swapped between the look and the open: what counts is what was opened.
      const opened = await handle.stat();
      refuseUnlessRegular(location, opened);
      if (opened.dev !== before.dev || opened.ino !== before.ino) throw new BundleError(`${location}: was replaced while it was read`);
      await this.#refuseUnlessInside(handle, path, location);
      if (opened.size > limit) throw new BundleFileTooLargeError(location, opened.size, limit);
      return await readAtMost(handle, opened.size, limit, (size) => new BundleFileTooLargeError(location, size, limit));
    } finally {
      await handle.close();
    }
  }

  async #directoryAt(path: string): Promise<boolean> {
    const location = this.location(path);
    let found: Stats;
    try {
      found = await lstat(location);
    } catch (cause) {
      if (codeOf(cause) === 'ENOENT') return false;
      throw new BundleError(`${location}: cannot be read (${codeOf(cause)})`);
    }
    if (found.isSymbolicLink()) throw new BundleError(`${location}: is a symbolic link; a bundle holds none`);
    if (!found.isDirectory()) throw new BundleError(`${location}: is ${describeKind(kindOf(found))}, not a directory`);
    return true;
  }

  /**
   * On Linux, the kernel's own name of the opened file must be the path asked for under the real root:
   * this catches a directory swapped for a link after it was looked at. Elsewhere (no /proc) the checks
   * of each directory on the way are what holds.
   */
  async #refuseUnlessInside(handle: FileHandle, path: string, location: string): Promise<void> {
    let actual: string;
    try {
      actual = await readlink(`/proc/self/fd/${handle.fd}`);
    } catch {
      return;
    }
    this.#realRoot ??= realpath(this.root).catch(() => undefined);
    const realRoot = await this.#realRoot;
    if (realRoot !== undefined && actual !== join(realRoot, path))
      throw new BundleError(`${location}: resolves outside the bundle (a directory on its way was replaced by a link)`);
  }
}

/** What a directory entry is, as a message says it. */
export type FileKind = 'file' | 'directory' | 'symbolic link' | 'FIFO' | 'character device' | 'block device' | 'socket' | 'unknown';

function describeKind(kind: FileKind): string {
  return kind === 'file' ? 'a regular file' : kind === 'unknown' ? 'of an unknown kind' : `a ${kind}`;
}

function kindOf(entry: Dirent | Stats): FileKind {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'directory';
  if (entry.isSymbolicLink()) return 'symbolic link';
  if (entry.isFIFO()) return 'FIFO';
  if (entry.isCharacterDevice()) return 'character device';
  if (entry.isBlockDevice()) return 'block device';
  if (entry.isSocket()) return 'socket';
  return 'unknown';
}

/** The error for `location` being of `kind` where a regular file belongs. */
export function notRegularFileError(location: string, kind: FileKind): BundleError {
  return new BundleError(
    kind === 'symbolic link'
      ? `${location}: is a symbolic link; a bundle holds none`
      : `${location}: is ${describeKind(kind)}, not a regular file`,
  );
}

function refuseUnlessRegular(location: string, found: Stats): void {
  if (!found.isFile()) throw notRegularFileError(location, kindOf(found));
}

/**
 * Reads from the start of `handle` (a regular file of `expected` bytes when it was looked at) until its end
 * or `limit` + 1 bytes, whichever comes first; more than `limit` throws `tooLarge(size)`. Every bounded read
 * of a local file goes through here.
 */
export async function readAtMost(handle: FileHandle, expected: number, limit: number, tooLarge: (size: number) => Error): Promise<string> {
  let buffer = Buffer.allocUnsafe(Math.min(expected, limit) + 1);
  let total = 0;
  for (;;) {
    if (total === buffer.length) {
      if (total > limit) break;
      // It grew since it was looked at: read on, but never past limit + 1.
      const grown = Buffer.allocUnsafe(Math.min(limit + 1, Math.max(buffer.length * 2, 64 * 1024)));
      buffer.copy(grown, 0, 0, total);
      buffer = grown;
    }
    const wanted = buffer.length - total;
    const { bytesRead } = await handle.read(buffer, total, wanted, total);
    total += bytesRead;
    // A regular file reads short only at its end: no further call to learn that.
    if (bytesRead < wanted) break;
  }
  if (total > limit) throw tooLarge(Math.max(total, (await handle.stat()).size));
  return buffer.toString('utf8', 0, total);
}

/** The segments of a relative `/`-separated path, none of which may climb or be empty. */
function segmentsOf(path: string): string[] {
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0')))
    throw new BundleError(`refusing to read ${quoteStoredName(path)}: not a plain path inside the bundle`);
  return segments;
}

export function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}
