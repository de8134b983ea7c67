import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** A stored file could not be read as a regular file within its size limit; the message names it. */
export class RegularFileError extends Error {
  override name = 'RegularFileError';
}

/** A regular file's text (never a link, a FIFO or a device), or undefined when there is none. */
export async function readRegularFile(path: string, limit: number): Promise<string | undefined> {
  let handle;
  try {
    // O_NOFOLLOW refuses a link; O_NONBLOCK keeps a FIFO from blocking the open.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(async (cause: NodeJS.ErrnoException) => {
      if (cause.code === 'ENOENT') return undefined;
      throw cause;
    });
    if (!handle) return undefined;
  } catch (cause) {
    throw new RegularFileError(`${path}: cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new RegularFileError(`${path}: not a regular file`);
    if (stat.size > limit) throw new RegularFileError(`${path}: holds ${stat.size} bytes, more than the ${limit} it may`);
    return (await handle.readFile('utf8')).replace(/^\uFEFF/, '');
  } finally {
    await handle.close();
  }
}

