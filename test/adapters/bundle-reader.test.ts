import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLE_FILE_LIMITS, BundleError, isStoredFileName, parseBundleText } from '../../lib/adapters/bundle-layout.ts';
import { firstJsonSyntaxError } from '../../lib/adapters/content-free-errors.ts';
import { LocalBundle } from '../../lib/adapters/local-audit-store.ts';
import { ContainedDirectory } from '../../lib/adapters/safe-read.ts';
import { ConfigMapSchema, InvocationSchema, type EvidenceBundle } from '../../lib/core/evidence-bundle.ts';
import { buildBundle } from '../support/bundle-builder.ts';
import { mknodOrDevice } from '../support/device-node.ts';

/**
 * The bundle reader against bundles prepared to trick it: links in and out of the bundle, a FIFO, a
 * device, names the writer never gives, a file larger than its limit, content that must not reach a
 * message. Every case must end in a BundleError naming the file (or a correct read), never in a hang.
 */

const VM = 'i-0123456789abcdef0';
const OTHER_VM = 'i-0123456789abcdef1';
// Text that stands for a secret outside the bundle: no message may ever contain it.
const SECRET = 'TOPSECRET-7f3a9c';
// A hung read must fail the test quickly rather than at the suite's 30 s timeout.
const QUICK = 5_000;

let dir: string;
let outside: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-audit-bundle-reader-'));
  outside = join(dir, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.json'), `${SECRET} {"InstanceId": "${VM}", "Status": "Success"}\n`);
  await writeFile(join(outside, 'invocation.json'), JSON.stringify({ InstanceId: VM, Status: 'Success', StandardOutputContent: SECRET }));
  await mkdir(join(outside, 'invocations'));
  await writeFile(
    join(outside, 'invocations', `${VM}.json`),
    JSON.stringify({ InstanceId: VM, Status: 'Success', StandardOutputContent: SECRET }),
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function sample(): EvidenceBundle {
  return buildBundle({ vms: [{ instanceId: VM }, { instanceId: OTHER_VM }], syncz: { 'istiod-a': [] } });
}

let root: string;

/** A fresh, valid bundle written by the writer itself; each test then spoils it one way. */
beforeEach(async () => {
  root = join(dir, `bundle-${++counter}`);
  const bundle = new LocalBundle(root);
  const value = sample();
  await bundle.writeManifest(value.manifest);
  await bundle.writeInventory(value.inventory);
  for (const invocation of Object.values(value.invocations)) await bundle.writeInvocation(invocation);
  await bundle.writeCluster(value.cluster!);
});

async function failure(path = root): Promise<Error> {
  return new LocalBundle(path).readBundle().then(
    () => {
      throw new Error('the bundle was read');
    },
    (error: unknown) => error as Error,
  );
}

async function replaceWith(path: string, make: (at: string) => Promise<void>): Promise<string> {
  const at = join(root, path);
  await rm(at, { recursive: true, force: true });
  await make(at);
  return at;
}

function mkfifo(at: string): Promise<void> {
  execFileSync('mkfifo', [at]);
  return Promise.resolve();
}

describe('the local bundle reader', () => {
  it('reads the bundle the writer wrote', async () => {
    const read = await new LocalBundle(root).readBundle();
    expect(Object.keys(read.invocations).sort()).toEqual([VM, OTHER_VM]);
    expect(read.cluster?.syncz).toEqual({ 'istiod-a': [] });
  });

  it('writes the Services and ServiceEntries as cluster/services.json and cluster/serviceentries.json, reads them back, and leaves out what was not read', async () => {
    const services = JSON.parse(await readFile(new URL('../fixtures/kube/services/service-list.json', import.meta.url), 'utf8')) as {
      items: unknown[];
    };
    const serviceEntries = JSON.parse(
      await readFile(new URL('../fixtures/kube/services/serviceentry-list.json', import.meta.url), 'utf8'),
    ) as { items: unknown[] };
    const bundle = new LocalBundle(root);
    await bundle.writeCluster({ ...sample().cluster!, services, serviceEntries });
    expect(JSON.parse(await readFile(join(root, 'cluster', 'services.json'), 'utf8'))).toEqual(services);
    const read = await bundle.readBundle();
    expect(read.cluster?.services).toEqual(services);
    expect(read.cluster?.serviceEntries).toEqual(serviceEntries);
    await rm(join(root, 'cluster', 'serviceentries.json'));
    expect((await bundle.readBundle()).cluster).not.toHaveProperty('serviceEntries');
  });

  it('refuses a services.json that is not a Kubernetes List, naming the file and not its content', async () => {
    await writeFile(join(root, 'cluster', 'services.json'), JSON.stringify({ kind: 'ServiceList', items: SECRET }));
    const error = await failure();
    expect(error).toBeInstanceOf(BundleError);
    expect(error.message).toContain(join(root, 'cluster', 'services.json'));
    expect(error.message).not.toContain(SECRET);
  });

  it('follows the root when it is a link the user chose', async () => {
    const link = join(dir, `link-to-bundle-${counter}`);
    await symlink(root, link);
    expect(Object.keys((await new LocalBundle(link).readBundle()).invocations)).toHaveLength(2);
  });

  describe('refuses what is not a regular file, without blocking', () => {
    it(
      'a FIFO named like a VM in invocations/',
      async () => {
        const at = await replaceWith(`invocations/${VM}.json`, mkfifo);
        const error = await failure();
        expect(error).toBeInstanceOf(BundleError);
        expect(error.message).toBe(`${at}: is a FIFO, not a regular file`);
      },
      QUICK,
    );

    it(
      'a FIFO read by its fixed name (the manifest), refused before it is opened',
      async () => {
        const at = await replaceWith('manifest.json', mkfifo);
        expect((await failure()).message).toBe(`${at}: is a FIFO, not a regular file`);
      },
      QUICK,
    );

    it(
      '/dev/zero through a link, as the manifest and as an invocation',
      async () => {
        const manifest = await replaceWith('manifest.json', (at) => symlink('/dev/zero', at));
        expect((await failure()).message).toBe(`${manifest}: is a symbolic link; a bundle holds none`);
        await replaceWith('manifest.json', (at) =>
          writeFile(at, '{"bundleVersion": 1, "runId": "r", "startedAt": "2026-11-26T06:00:00Z", "source": "sim"}'),
        );
        const invocation = await replaceWith(`invocations/${VM}.json`, (at) => symlink('/dev/zero', at));
        expect((await failure()).message).toBe(`${invocation}: is a symbolic link; a bundle holds none`);
      },
      QUICK,
    );

    it(
      'a device itself (a tree rooted at /dev), refused before it is opened',
      async () => {
        const devices = new ContainedDirectory('/dev');
        await expect(devices.readText('zero', BUNDLE_FILE_LIMITS.invocation)).rejects.toThrow(
          '/dev/zero: is a character device, not a regular file',
        );
        await expect(devices.readText('null', BUNDLE_FILE_LIMITS.invocation)).rejects.toThrow(
          '/dev/null: is a character device, not a regular file',
        );
      },
      QUICK,
    );

    it('a directory named like a VM', async () => {
      const at = await replaceWith(`invocations/${VM}.json`, (p) => mkdir(p));
      expect((await failure()).message).toBe(`${at}: is a directory, not a regular file`);
    });

    it('a file where a directory of the bundle belongs', async () => {
      const at = await replaceWith('invocations', (p) => writeFile(p, '[]'));
      expect((await failure()).message).toBe(`${at}: is a regular file, not a directory`);
    });
  });

  describe('refuses every kind of special file, by its kind, in a listed directory and at a fixed name', () => {
    /** Puts a socket at `at`; it stays bound until the test's end, when the returned close is called. */
    async function socketAt(at: string): Promise<() => Promise<void>> {
      const server = createServer();
      await new Promise<void>((done) => server.listen(at, done));
      return () => new Promise((done) => server.close(() => done()));
    }

    it.each([`invocations/${VM}.json`, 'cluster/syncz/istiod-a.json', 'manifest.json', 'cluster/workloadentries.json'])(
      'a FIFO and a socket at %s',
      async (path) => {
        const at = await replaceWith(path, mkfifo);
        expect((await failure()).message).toBe(`${at}: is a FIFO, not a regular file`);
        await rm(at);
        const close = await socketAt(at);
        try {
          expect((await failure()).message).toBe(`${at}: is a socket, not a regular file`);
        } finally {
          await close();
        }
      },
      QUICK,
    );

    it.each([`invocations/${VM}.json`, 'manifest.json'])(
      'a character device node for /dev/zero at %s, refused before it is opened',
      async (path) => {
        const at = await replaceWith(path, () => Promise.resolve());
        const node = mknodOrDevice(at, 'zero');
        // Without the right to make a device node, the device itself is met in a tree rooted at its directory.
        const error =
          node === at
            ? await failure()
            : await new ContainedDirectory(dirname(node))
                .readText(basename(node), BUNDLE_FILE_LIMITS.invocation)
                .catch((e: unknown) => e as Error);
        expect((error as Error).message).toBe(`${node}: is a character device, not a regular file`);
      },
      QUICK,
    );
  });

  describe("the writer, over what was left at a record's name", () => {
    it.each([
      ['a FIFO', (at: string) => mkfifo(at)],
      ['a link to /dev/zero', (at: string) => symlink('/dev/zero', at)],
      ['a link to a final record outside the bundle', (at: string) => symlink(join(outside, 'invocation.json'), at)],
    ])(
      'replaces %s with the record, without blocking on it or reading it',
      async (_case, make) => {
        const at = await replaceWith(`invocations/${VM}.json`, make);
        await new LocalBundle(root).writeInvocation({ InstanceId: VM, Status: 'InProgress', StandardOutputContent: 'fresh' });
        expect((await lstat(at)).isFile()).toBe(true);
        expect((await new LocalBundle(root).readBundle()).invocations[VM]?.StandardOutputContent).toBe('fresh');
        expect(await readFile(join(outside, 'invocation.json'), 'utf8')).toContain(SECRET);
      },
      QUICK,
    );
  });

  describe('refuses links inside the bundle, wherever they point', () => {
    it.each([
      ['an invocation linked out of the bundle', `invocations/${VM}.json`, () => join(outside, 'invocation.json')],
      ['an invocation linked to a secret that is not JSON', `invocations/${VM}.json`, () => join(outside, 'secret.json')],
      ['an invocation linked to another one of the bundle', `invocations/${VM}.json`, () => join(root, 'invocations', `${OTHER_VM}.json`)],
      ['an invocation linked relatively, within its directory', `invocations/${VM}.json`, () => `${OTHER_VM}.json`],
      ['the inventory linked out of the bundle', 'inventory.json', () => join(outside, 'secret.json')],
      ['a syncz answer linked into the bundle', 'cluster/syncz/istiod-a.json', () => join(root, 'cluster', 'workloadentries.json')],
    ])('%s', async (_case, path, target) => {
      const at = await replaceWith(path, (p) => symlink(target(), p));
      const error = await failure();
      expect(error).toBeInstanceOf(BundleError);
      expect(error.message).toBe(`${at}: is a symbolic link; a bundle holds none`);
      expect(error.message).not.toContain(SECRET);
    });

    it.each([
      ['invocations/ linked out of the bundle', 'invocations', () => join(outside, 'invocations')],
      ['cluster/ linked to a directory of the bundle', 'cluster', () => join(root, 'invocations')],
      ['cluster/syncz/ linked out of the bundle', 'cluster/syncz', () => outside],
    ])('a directory: %s', async (_case, path, target) => {
      const at = await replaceWith(path, (p) => symlink(target(), p));
      const error = await failure();
      expect(error.message).toBe(`${at}: is a symbolic link; a bundle holds none`);
      expect(error.message).not.toContain(SECRET);
    });
  });

  describe('reads only the names the writer gives', () => {
    it.each([
      ['evil.json', '"evil.json"'],
      ['I-0123456789ABCDEF0.json', '"I-0123456789ABCDEF0.json"'],
      [`${VM}.json.bak`, `"${VM}.json.bak"`],
      [`${VM}.JSON`, `"${VM}.JSON"`],
      ['.DS_Store', '".DS_Store"'],
      ['\u001b[2J\u001b]0;pwned\u0007.json', '"\\u001b[2J\\u001b]0;pwned\\u0007.json"'],
    ])('refuses invocations/%j, naming it (quoted, printable)', async (name, quoted) => {
      await writeFile(join(root, 'invocations', name), JSON.stringify({ InstanceId: VM, Status: 'Success' }));
      const error = await failure();
      expect(error).toBeInstanceOf(BundleError);
      expect(error.message).toBe(
        `${join(root, 'invocations')}: holds ${quoted}, which is not a name this tool writes there (invocations/<SSM managed node id>.json)`,
      );
      expect([...error.message].every((c) => c >= ' ' && c <= '~')).toBe(true);
    });

    it('refuses a syncz or root CA file not named like a Kubernetes object', async () => {
      await writeFile(join(root, 'cluster', 'syncz', 'Istiod_A.json'), '[]');
      expect((await failure()).message).toBe(
        `${join(root, 'cluster/syncz')}: holds "Istiod_A.json", which is not a name this tool writes there (cluster/syncz/<istiod pod name>.json)`,
      );
    });

    it('passes over the leftovers of an interrupted atomic write', async () => {
      await writeFile(join(root, 'invocations', `${VM}.json.tmp-4242-k3j5h`), '{"half": ');
      expect(Object.keys((await new LocalBundle(root).readBundle()).invocations)).toHaveLength(2);
    });

    it('names no path that climbs out, and reads none', async () => {
      expect(isStoredFileName('invocations', '../x')).toBe(false);
      expect(isStoredFileName('invocations', `../${VM}.json`)).toBe(false);
      expect(isStoredFileName('invocations', `sub/${VM}.json`)).toBe(false);
      expect(isStoredFileName('cluster/syncz', '..json')).toBe(false);
      expect(isStoredFileName('cluster', 'workloadentries.json')).toBe(false);
      expect(isStoredFileName('invocations', `${VM}.json`)).toBe(true);
      const tree = new ContainedDirectory(root);
      await expect(tree.readText('invocations/../../outside/invocation.json', 1024)).rejects.toThrow(
        'refusing to read "invocations/../../outside/invocation.json": not a plain path inside the bundle',
      );
      await expect(tree.readText('/etc/passwd', 1024)).rejects.toThrow('not a plain path inside the bundle');
    });
  });

  describe('bounds what it reads', () => {
    it('does not read an invocation larger than its limit (a sparse file): that VM alone is marked, the rest is read', async () => {
      const at = join(root, 'invocations', `${VM}.json`);
      await truncate(at, BUNDLE_FILE_LIMITS.invocation + 1);
      const bundle = await new LocalBundle(root).readBundle();
      expect(bundle.invocations[VM]).toEqual({
        InstanceId: VM,
        Status: 'Unread',
        FleetAuditCollectionError: `the stored record of this VM's invocation holds ${BUNDLE_FILE_LIMITS.invocation + 1} bytes, more than the ${BUNDLE_FILE_LIMITS.invocation} bytes one VM's record may hold: its output was not read`,
      });
      expect(bundle.manifest.runId).toBeTruthy();
    });

    it('reads a file of exactly its limit, and refuses one byte more', async () => {
      const tree = new ContainedDirectory(root);
      const manifest = await readFile(join(root, 'manifest.json'), 'utf8');
      const size = Buffer.byteLength(manifest);
      expect(await tree.readText('manifest.json', size)).toBe(manifest);
      await expect(tree.readText('manifest.json', size - 1)).rejects.toMatchObject({
        name: 'BundleFileTooLargeError',
        size,
        limit: size - 1,
      });
    });
  });

  describe('never repeats what a file holds', () => {
    it('says where a JSON syntax error is, not what is there', async () => {
      const at = join(root, 'invocations', `${VM}.json`);
      await writeFile(at, `{\n  "InstanceId": "${VM}",\n  ${SECRET}\n}`);
      const error = await failure();
      expect(error.message).toBe(`${at}: is not valid JSON (unexpected character at line 3, column 3)`);
    });

    it('says where a truncated file ends', async () => {
      const at = join(root, 'manifest.json');
      await writeFile(at, `{"runId": "${SECRET}`);
      expect((await failure()).message).toBe(
        `${at}: is not valid JSON (it ends early, at line 1, column ${`{"runId": "${SECRET}`.length + 1})`,
      );
    });

    it("shows the schema's own field names in a path, never the file's own keys", () => {
      const error = (() => {
        try {
          parseBundleText('root-ca.json', JSON.stringify({ data: { [`${SECRET}\u001b[31m`]: 42 } }), ConfigMapSchema);
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(error?.message).toBe('root-ca.json: data.<key>: Invalid input: expected string, received number');
    });

    it('names an invocation holding another InstanceId, without repeating the one it holds', async () => {
      const at = join(root, 'invocations', `${VM}.json`);
      await writeFile(at, JSON.stringify({ InstanceId: `\u001b]0;${SECRET}\u0007`, Status: 'Success' }));
      const error = await failure();
      expect(error).toBeInstanceOf(BundleError);
      expect(error.message).toContain(at);
      expect(error.message).not.toContain(SECRET);
      expect([...error.message].every((c) => c >= ' ' && c <= '~')).toBe(true);
    });

    it('names the field of a wrong type, not its value', () => {
      expect(() => parseBundleText('x.json', JSON.stringify({ InstanceId: VM, Status: [SECRET] }), InvocationSchema)).toThrow(
        /^x\.json: Status: Invalid input: expected string, received array$/,
      );
    });
  });

  describe('decodes text like an editor would', () => {
    it('skips a UTF-8 byte-order mark', async () => {
      const at = join(root, 'invocations', `${VM}.json`);
      await writeFile(
        at,
        Buffer.concat([
          Buffer.from([0xef, 0xbb, 0xbf]),
          Buffer.from(JSON.stringify({ InstanceId: VM, Status: 'Success', StandardOutputContent: 'ok' })),
        ]),
      );
      expect((await new LocalBundle(root).readBundle()).invocations[VM]?.StandardOutputContent).toBe('ok');
    });

    it('skips a byte-order mark on the files read by their fixed name', async () => {
      for (const name of ['manifest.json', 'inventory.json', 'cluster/workloadentries.json']) {
        const at = join(root, name);
        await writeFile(at, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), await readFile(at)]));
      }
      const read = await new LocalBundle(root).readBundle();
      expect(read.manifest.bundleVersion).toBe(1);
      expect(read.inventory.InstanceInformationList).toHaveLength(2);
      expect(read.cluster?.workloadEntries?.items).toBeDefined();
    });

    it('reads bytes that are not UTF-8 as U+FFFD, in that string only', async () => {
      const at = join(root, 'invocations', `${VM}.json`);
      const [head, tail] = [`{"InstanceId": "${VM}", "Status": "Success", "StandardOutputContent": "a`, 'b"}'];
      await writeFile(at, Buffer.concat([Buffer.from(head), Buffer.from([0xff, 0xc3]), Buffer.from(tail)]));
      expect((await new LocalBundle(root).readBundle()).invocations[VM]?.StandardOutputContent).toBe('a\ufffd\ufffdb');
    });
  });
});

describe('the JSON syntax locator', () => {
  it.each([
    ['', 0],
    ['abc', 0],
    ['{"a":1}x', 7],
    ['{"a" 1}', 5],
    ['[1,]', 3],
    ['"\u0001"', 1],
    ['01', 1],
    ['[1.e5]', 3],
    ['{"a":tru}', 8],
    ['"\\x"', 2],
    ['"\\u12G4"', 5],
    ['[[[', 3],
  ])('%j fails at %d', (text, offset) => {
    expect(firstJsonSyntaxError(text)).toBe(offset);
  });

  it('agrees with JSON.parse on what is JSON', () => {
    const parses = (text: string): boolean => {
      try {
        JSON.parse(text);
        return true;
      } catch {
        return false;
      }
    };
    const nearJson = fc.oneof(
      fc.json(),
      fc
        .tuple(fc.json(), fc.nat(), fc.constantFrom('', ',', ']', '}', '"', ':', '\\', 'e', '-', '.', '\u0001', ' '))
        .map(([json, at, insert]) => {
          const i = at % (json.length + 1);
          return json.slice(0, i) + insert + json.slice(i + (insert === '' ? 1 : 0));
        }),
      fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '1', '0', '-', '.', 'e', 't', 'r', 'u', 'n', 'l', ' ', '\\') }),
    );
    fc.assert(
      fc.property(nearJson, (text) => (firstJsonSyntaxError(text) === undefined) === parses(text)),
      { numRuns: 3000 },
    );
  });

  it('costs no stack for deep nesting', () => {
    expect(firstJsonSyntaxError('['.repeat(1_000_000))).toBe(1_000_000);
  });
});
