import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// What `npm test` does first on a machine without the tests' system tools: a PATH that holds only a shell
// and `id` stands for it. apt-get is off that PATH too, so nothing is installed by running this.
const run = promisify(execFile);
const SCRIPT = new URL('../../scripts/ensure-test-tools.sh', import.meta.url).pathname;
const bare = mkdtempSync(join(tmpdir(), 'fleet-audit-bare-path-'));
symlinkSync('/bin/sh', join(bare, 'sh'));
symlinkSync('/usr/bin/id', join(bare, 'id'));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

async function ensure(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('/bin/sh', [SCRIPT], { env: { HOME: tmpdir(), PATH: bare, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the check npm test runs first', () => {
  it('stops with one line naming the apt-get command when the tools are missing and cannot be installed', async () => {
    const result = await ensure({ CHROMIUM_PATH: join(bare, 'no-chromium') });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^npm test needs these Debian packages: dash bash busybox shellcheck openssl curl .*chromium; /);
    expect(result.stderr).toMatch(/install them with: sudo apt-get install -y dash bash busybox shellcheck openssl curl .*chromium\n$/);
    expect(result.stderr.split('\n')).toHaveLength(2);
  });

  it('says nothing and lets the tests run when every tool is there', async () => {
    expect(await ensure({ PATH: process.env.PATH ?? '/usr/bin:/bin' })).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
