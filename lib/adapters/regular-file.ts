import { constants, type Stats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { codeOf, readAtMost } from './safe-read.ts';
import { BadInputError } from '../shared/errors.ts';

/** A stored file could not be read as a regular file within its size limit; the message names it. */
export class RegularFileError extends BadInputError {
  override name = 'RegularFileError';
}

/**
 * A regular file's text, or undefined when there is none. Anything else at `path` is refused with its kind
 * named: a link is not followed, and a FIFO, socket or device is refused before it is opened (opening a
 * device can have effects of its own, opening a FIFO can block). The open itself neither follows a link
 * nor blocks, and what was opened is checked again, so a file swapped after the look is refused too. At
 * most `limit` + 1 bytes are read, so a file that grows while read costs no more. A leading byte-order
 * mark is dropped.
 */
export async function readRegularFile(path: string, limit: number): Promise<string | undefined> {
  let before: Stats;
  try {
    before = await lstat(path);
  } catch (cause) {
    if (codeOf(cause) === 'ENOENT') return undefined;
    throw new RegularFileError(`${path}: cannot be read (${codeOf(cause)})`);
  }
  refuseUnlessRegular(path, before);
  if (before.size > limit) throw tooLarge(path, before.size, limit);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (cause) {
    const code = codeOf(cause);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') throw new RegularFileError(`${path}: is a symbolic link, not a regular file`);
    throw new RegularFileError(`${path}: cannot be read (${code})`);
  }
  try {
    const opened = await handle.stat();
    refuseUnlessRegular(path, opened);
    if (opened.dev !== before.dev || opened.ino !== before.ino) throw new RegularFileError(`${path}: was replaced while it was read`);
    if (opened.size > limit) throw tooLarge(path, opened.size, limit);
    return (await readAtMost(handle, opened.size, limit, (size) => tooLarge(path, size, limit))).replace(/^\uFEFF/, '');
  } finally {
    await handle.close();
  }
}

function refuseUnlessRegular(path: string, found: Stats): void {
  if (found.isFile()) return;
  const kind = found.isSymbolicLink()
    ? 'a symbolic link'
    : found.isDirectory()
      ? 'a directory'
      : found.isFIFO()
        ? 'a FIFO'
        : found.isSocket()
          ? 'a socket'
          : found.isCharacterDevice()
            ? 'a character device'
            : found.isBlockDevice()
              ? 'a block device'
              : 'of an unknown kind';
  throw new RegularFileError(`${path}: is ${kind}, not a regular file`);
}

function tooLarge(path: string, size: number, limit: number): RegularFileError {
  return new RegularFileError(`${path}: holds ${size} bytes, more than the ${limit} it may`);
}
