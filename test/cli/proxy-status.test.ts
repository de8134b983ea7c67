import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';

const fixtures = fileURLToPath(new URL('../fixtures/kube/proxy-status/', import.meta.url));
const golden = `${readFileSync(join(fixtures, 'multiXdsStatusMultiPilot.txt'), 'utf8')}\n`;

describe('fleet-audit proxy-status', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-proxy-status-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints istioctl's table, naming each replica after its file", async () => {
    const run = await cli(['proxy-status', '--file', ...[4, 3, 2, 1].map((i) => join(fixtures, `istiod${i}.json`))]);
    expect(run).toEqual({ code: 0, stdout: golden, stderr: '' });
  });

  it("takes the replica from an entry's istiod field when it has one, and reads standard input for -", async () => {
    const entries = [1, 2, 3, 4].flatMap((i) => (JSON.parse(readFileSync(join(fixtures, `istiod${i}.json`), 'utf8')) as object[]).map((e) => ({ ...e, istiod: `istiod${i}` })));
    const run = await cli(['proxy-status', '--file', '-'], { stdin: JSON.stringify(entries) });
    expect(run).toEqual({ code: 0, stdout: golden, stderr: '' });
  });

  it.each([
    ['broken.json', '[{"proxy": "a"', /broken\.json: not JSON/],
    ['object.json', '{"proxy": "a"}', /object\.json: not a \/debug\/syncz answer/],
    ['no-proxy.json', '[{"proxy": "a"}, {"cluster_id": "x"}]', /no-proxy\.json: entry 1 is not a syncz proxy status \(proxy: /],
  ])('rejects %s with exit code 2, naming the file', async (name, content, message) => {
    writeFileSync(join(dir, name), content);
    const run = await cli(['proxy-status', '--file', join(fixtures, 'istiod1.json'), join(dir, name)]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });

  it('names a file that cannot be read', async () => {
    const run = await cli(['proxy-status', '--file', join(dir, 'missing.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${join(dir, 'missing.json')}: cannot read the file (ENOENT)`);
  });

  it('requires --file', async () => {
    const run = await cli(['proxy-status']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--file/);
  });
});
