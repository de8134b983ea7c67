import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRunHistory } from '../../lib/adapters/local-run-history.ts';
import { readRegularFile, RegularFileError } from '../../lib/adapters/regular-file.ts';
import { mknodOrDevice } from '../support/device-node.ts';

/**
 * The reader of the store's own files (reports, digests: what `show`, `compliance` and the local API read)
 * against files prepared to trick it. A run directory is shared with whoever can write the store, so the
 * rules are the bundle reader's: only a regular file is read, a FIFO never blocks, a device is never
 * opened, a link is not followed, nothing past the limit is read, and no message repeats the content.
 */

const SECRET = 'TOPSECRET-7f3a9c';
// A hung open or read must fail the test quickly rather than at the suite's 30 s timeout.
const QUICK = 5_000;
const LIMIT = 1024;

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-audit-regular-file-'));
  await writeFile(join(dir, 'secret.json'), `{"secret": "${SECRET}"}`);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const fresh = (): string => join(dir, `file-${++counter}.json`);

async function failure(path: string, limit = LIMIT): Promise<Error> {
  return readRegularFile(path, limit).then(
    () => {
      throw new Error('the file was read');
    },
    (error: unknown) => error as Error,
  );
}

describe('readRegularFile', () => {
  it('reads a regular file, without its byte-order mark, and says undefined for none', async () => {
    const path = fresh();
    await writeFile(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a": 1}')]));
    expect(await readRegularFile(path, LIMIT)).toBe('{"a": 1}');
    expect(await readRegularFile(fresh(), LIMIT)).toBeUndefined();
  });

  it(
    'refuses a FIFO without blocking on it',
    async () => {
      const path = fresh();
      execFileSync('mkfifo', [path]);
      const error = await failure(path);
      expect(error).toBeInstanceOf(RegularFileError);
      expect(error.message).toBe(`${path}: is a FIFO, not a regular file`);
    },
    QUICK,
  );

  it('refuses a socket', async () => {
    const path = join(dir, `s${++counter}.sock`);
    const server: Server = createServer();
    await new Promise<void>((done) => server.listen(path, done));
    try {
      expect((await failure(path)).message).toBe(`${path}: is a socket, not a regular file`);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  it(
    'refuses a character device (a node for /dev/zero) without reading it',
    async () => {
      const path = mknodOrDevice(fresh(), 'zero');
      expect((await failure(path, 1024 ** 3)).message).toBe(`${path}: is a character device, not a regular file`);
    },
    QUICK,
  );

  it.each([
    ['a secret beside it', () => join(dir, 'secret.json')],
    ['/dev/zero', () => '/dev/zero'],
    ['a FIFO', () => join(dir, 'fifo-target')],
  ])(
    'refuses a link to %s, without following it',
    async (_case, target) => {
      if (target().endsWith('fifo-target')) execFileSync('mkfifo', ['-m', '600', target()]);
      const path = fresh();
      await symlink(target(), path);
      const error = await failure(path);
      expect(error.message).toBe(`${path}: is a symbolic link, not a regular file`);
      expect(error.message).not.toContain(SECRET);
    },
    QUICK,
  );

  it('refuses a directory', async () => {
    const path = fresh();
    await mkdir(path);
    expect((await failure(path)).message).toBe(`${path}: is a directory, not a regular file`);
  });

  it('refuses a file over the limit without reading it (a sparse file of 4 GiB)', async () => {
    const path = fresh();
    await writeFile(path, '');
    await truncate(path, 4 * 1024 ** 3);
    expect((await failure(path)).message).toBe(`${path}: holds ${4 * 1024 ** 3} bytes, more than the ${LIMIT} it may`);
  });

  it('reads a file of exactly the limit', async () => {
    const path = fresh();
    await writeFile(path, 'x'.repeat(LIMIT));
    expect(await readRegularFile(path, LIMIT)).toHaveLength(LIMIT);
  });
});

describe('the local run history, reading a stored report', () => {
  async function historyFailure(runDir: string, body: string): Promise<Error> {
    await mkdir(join(dir, runDir), { recursive: true });
    await writeFile(join(dir, runDir, 'report.json'), body);
    return new LocalRunHistory(dir).readDigest(runDir).then(
      () => {
        throw new Error('the report was read');
      },
      (error: unknown) => error as Error,
    );
  }

  it('says a report is not JSON, not what it holds', async () => {
    const error = await historyFailure('run-not-json', `{"runId": "${SECRET}`);
    expect(error.message).toBe(`${join(dir, 'run-not-json', 'report.json')}: is not valid JSON`);
  });

  it("names the schema's own fields in a path, never the file's own keys", async () => {
    const key = `${SECRET}\u001b[31m`;
    const error = await historyFailure(
      'run-bad-key',
      JSON.stringify({
        schemaVersion: 1,
        runId: 'r',
        startedAt: 'x',
        finishedAt: 'x',
        source: 'sim',
        summary: { vms: 0, compliant: 0, nonCompliant: 0, unknown: 0, byControl: { [key]: 42 }, bySeverity: {} },
        vms: [],
        findings: [],
        waivers: [],
      }),
    );
    expect(error.message).not.toContain(SECRET);
    expect(error.message).toBe(
      `${join(dir, 'run-bad-key', 'report.json')}: summary.byControl.<key>: Invalid input: expected object, received number`,
    );
  });
});
