import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The CLI as users get it: `npm pack`, then the packed `fleet-audit` on each maintained Node line and on
// the machine's own Node. Node 22 comes from the npm registry as the `node` package, cached between runs.
const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;
const NODE22_PREFIX = join(REPO, 'node_modules', '.cache', 'fleet-audit-node22');
const NODE22 = join(NODE22_PREFIX, 'node_modules', '.bin', 'node');

interface Exit {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: string[], cwd: string): Promise<Exit> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A node_modules holding only the production dependencies (linked from the repo's), as `npm install` of the package would. */
async function productionModules(target: string): Promise<void> {
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  const top = join(REPO, 'node_modules') + sep;
  for (const path of stdout.split('\n')) {
    if (!path.startsWith(top)) continue;
    const name = relative(top, path);
    // Only hoisted packages: nested ones come along inside their parent's directory.
    if (name.split(sep).includes('node_modules') || name.split(sep).length > (name.startsWith('@') ? 2 : 1)) continue;
    const link = join(target, name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(path, link);
  }
}

/** The system's own Node (not the project's Node 24 from node_modules/.bin), when there is one. */
function systemNode(): string | undefined {
  return ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));
}

describe('the npm package', () => {
  let dir: string;
  let bin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-pack-'));
    await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: REPO });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    await run('tar', ['xzf', join(dir, tarball), '-C', dir]);
    await productionModules(join(dir, 'package', 'node_modules'));
    bin = join(dir, 'package', 'bin', 'fleet-audit.js');
    if (!existsSync(NODE22))
      await run('npm', ['install', '--prefix', NODE22_PREFIX, '--no-save', '--no-audit', '--no-fund', 'node@22'], { cwd: REPO });
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds built JavaScript and no TypeScript sources', () => {
    const files = readdirSync(join(dir, 'package'), { recursive: true, encoding: 'utf8' });
    expect(files).toContain(join('dist', 'fleet-audit.js'));
    expect(files).toContain(join('dist', 'fleet-audit-diagnostics.sh'));
    expect(files.filter((f) => f.endsWith('.ts') && !f.startsWith(`node_modules${sep}`))).toEqual([]);
  });

  it.each([
    ['Node 22', () => NODE22],
    ['Node 24', () => process.execPath],
  ])(
    'audits the simulated fleet on %s with production dependencies only',
    async (_name, node) => {
      const version = await exec(node(), ['--version'], dir);
      expect(version.stdout).toMatch(_name === 'Node 22' ? /^v22\./ : /^v24\./);
      const audit = await exec(node(), [bin, 'run', '--vms', '4', '--out', join(dir, `store-${_name.replace(' ', '')}`)], dir);
      expect(audit.stderr).toBe('');
      expect(audit.code).toBe(0);
      expect(audit.stdout).toMatch(/^4 VMs: \d+ compliant/m);
      const script = await exec(node(), [bin, 'script'], dir);
      expect(script.stdout).toMatch(/^#!\/bin\/sh/);
    },
    60_000,
  );

  it('says in one line that the simulated AWS endpoints need the development dependencies', async () => {
    const audit = await exec(process.execPath, [bin, 'run', '--source', 'sim-aws', '--vms', '2', '--out', join(dir, 'store-sim-aws')], dir);
    expect(audit.code).toBe(2);
    expect(audit.stderr.trim().split('\n')).toHaveLength(1);
    expect(audit.stderr).toContain('--source sim-aws needs the development dependencies');
  }, 60_000);

  it("stops with one line naming the Node it needs on the system's older Node", async () => {
    const node = systemNode();
    expect(node, 'this test needs the system Node (Debian package nodejs)').toBeDefined();
    const major = Number((await exec(node!, ['--version'], dir)).stdout.slice(1).split('.')[0]);
    const result = await exec(node!, [bin, 'run', '--vms', '2', '--out', join(dir, 'store-system')], dir);
    if (major >= 22) {
      expect(result.code).toBe(0);
    } else {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^fleet-audit needs Node\.js 22 or newer; this is Node\.js \d+\.\d+\.\d+\.\n$/);
      expect(result.stdout).toBe('');
    }
  }, 60_000);
});
