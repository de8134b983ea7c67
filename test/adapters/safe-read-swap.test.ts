import { execFileSync } from 'node:child_process';
import { mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import type * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readRegularFile } from '../../lib/adapters/regular-file.ts';
import { ContainedDirectory } from '../../lib/adapters/safe-read.ts';

/**
 * A file swapped between the reader's look (lstat) and its open: the look saw a regular file, so only the
 * open and the checks on the opened handle stand between the reader and a FIFO (which a blocking open
 * would wait on forever, having no writer), a link, or another file. The swap is made at that exact
 * moment by wrapping lstat, so the race is won every time.
 */

const swaps = vi.hoisted(() => new Map<string, () => Promise<void>>());

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof fs>();
  const lstat = (async (path: Parameters<typeof actual.lstat>[0], ...rest: unknown[]) => {
    const seen = await (actual.lstat as (...args: unknown[]) => Promise<unknown>)(path, ...rest);
    const swap = swaps.get(String(path));
    if (swap) {
      swaps.delete(String(path));
      await swap();
    }
    return seen;
  }) as typeof actual.lstat;
  return { ...actual, default: { ...actual, lstat }, lstat };
});

// A blocking open of the FIFO would never return: the test must fail quickly instead.
const QUICK = 5_000;
const SECRET = 'TOPSECRET-7f3a9c';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-audit-swap-'));
  await writeFile(join(dir, 'secret.json'), `{"secret": "${SECRET}"}`);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A regular file at a fresh name, replaced by `make` right after the reader looks at it. */
async function swappedAfterTheLook(make: (at: string) => Promise<void>): Promise<string> {
  const name = `file-${++counter}.json`;
  const at = join(dir, name);
  await writeFile(at, '{}');
  swaps.set(at, () => make(at));
  return name;
}

const SWAPS: Array<[string, (at: string) => Promise<void>, (at: string) => string]> = [
  [
    'a FIFO',
    async (at) => {
      await rm(at);
      execFileSync('mkfifo', [at]);
    },
    (at) => `${at}: is a FIFO, not a regular file`,
  ],
  [
    'a link to a secret',
    async (at) => {
      await rm(at);
      await symlink(join(dir, 'secret.json'), at);
    },
    (at) => `${at}: is a symbolic link`,
  ],
  [
    // Written beside it and renamed over it, so that it cannot reuse the first file's inode.
    'another regular file',
    async (at) => {
      await writeFile(`${at}.new`, `{"other": "${SECRET}"}`);
      await rename(`${at}.new`, at);
    },
    (at) => `${at}: was replaced while it was read`,
  ],
];

describe('a file swapped between the look and the open', () => {
  it.each(SWAPS)(
    'the bundle reader refuses %s, without blocking',
    async (_case, make, message) => {
      const name = await swappedAfterTheLook(make);
      const error = await new ContainedDirectory(dir).readText(name, 1024).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain(message(join(dir, name)));
      expect((error as Error).message).not.toContain(SECRET);
    },
    QUICK,
  );

  it.each(SWAPS)(
    "the store's file reader refuses %s, without blocking",
    async (_case, make, message) => {
      const name = await swappedAfterTheLook(make);
      const error = await readRegularFile(join(dir, name), 1024).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain(message(join(dir, name)));
      expect((error as Error).message).not.toContain(SECRET);
    },
    QUICK,
  );
});
