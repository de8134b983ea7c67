import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';

const fixtures = fileURLToPath(new URL('../fixtures/kube/proxy-status/', import.meta.url));
const golden = readFileSync(join(fixtures, 'multiXdsStatusMultiPilot-1.27.txt'), 'utf8');
const golden124 = `${readFileSync(join(fixtures, 'multiXdsStatusMultiPilot.txt'), 'utf8')}\n`;
const entriesOf = (i: number): Record<string, unknown>[] =>
  JSON.parse(readFileSync(join(fixtures, `istiod${i}.json`), 'utf8')) as Record<string, unknown>[];
// Upstream's goldens carry no push time; the fixtures do, as istiod writes it.
const withoutPushTimes = (e: Record<string, unknown>): Record<string, unknown> => ({
  ...e,
  resources: Object.fromEntries(
    Object.entries((e.resources ?? {}) as Record<string, object>).map(([url, r]) => [url, { ...r, sentTime: undefined }]),
  ),
});
const podList = (pods: Array<[string, string]>): string =>
  JSON.stringify({
    kind: 'PodList',
    items: pods.map(([name, tag]) => ({
      metadata: { name, namespace: 'istio-system' },
      spec: { containers: [{ name: 'discovery', image: `docker.io/istio/pilot:${tag}` }] },
    })),
  });

describe('fleet-audit proxy-status', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-proxy-status-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints istioctl 1.29's table by default, naming each replica after its file", async () => {
    const run = await cli(['proxy-status', '--file', ...[4, 3, 2, 1].map((i) => join(fixtures, `istiod${i}.json`))]);
    expect(run).toEqual({ code: 0, stdout: golden, stderr: '' });
  });

  it("takes the replica from an entry's istiod field when it has one, and reads standard input for -", async () => {
    const entries = [1, 2, 3, 4].flatMap((i) => entriesOf(i).map((e) => ({ ...e, istiod: `istiod${i}` })));
    const run = await cli(['ps', '--file', '-'], { stdin: JSON.stringify(entries) });
    expect(run).toEqual({ code: 0, stdout: golden, stderr: '' });
  });

  it('prints the 1.24 layout with --istio-version, ages included when istiod gave the push time', async () => {
    const untimed = [1, 2, 3, 4].flatMap((i) => entriesOf(i).map((e) => ({ ...withoutPushTimes(e), istiod: `istiod${i}` })));
    expect(await cli(['proxy-status', '--file', '-', '--istio-version', '1.24.6'], { stdin: JSON.stringify(untimed) })).toEqual({
      code: 0,
      stdout: golden124,
      stderr: '',
    });
    const timed = await cli(['proxy-status', '--file', join(fixtures, 'istiod1.json'), '--istio-version', '1.26'], {
      now: new Date('2024-11-20T10:03:05Z'),
    });
    expect(timed.stdout.split('\n')[1]!.split(/ {2,}/)).toEqual([
      'proxy1',
      'cluster1',
      'STALE (3m)',
      'SYNCED (3m4s)',
      'SYNCED (3m4s)',
      'NOT SENT',
      'SYNCED (3m4s)',
      'istiod1',
      '1.20',
    ]);
  });

  it('prints every type with -v 1 from 1.27 on, and refuses it for an older layout', async () => {
    const run = await cli(['ps', '--file', join(fixtures, 'istiod1.json'), '-v', '1'], { now: new Date('2024-11-20T10:03:05Z') });
    expect(run.stdout.split('\n')[0]!.split(/ {2,}/)).toEqual(['NAME', 'CLUSTER', 'CDS', 'ECDS', 'EDS', 'LDS', 'RDS', 'ISTIOD', 'VERSION']);
    const old = await cli(['ps', '--file', join(fixtures, 'istiod1.json'), '-v', '1', '--istio-version', '1.26']);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('came with 1.27');
  });

  it('takes the layout from the istiod pods of the evidence bundle the files belong to', async () => {
    const bundle = join(dir, 'bundle', 'cluster');
    mkdirSync(join(bundle, 'syncz'), { recursive: true });
    writeFileSync(join(bundle, 'syncz', 'istiod-7d4f9.json'), JSON.stringify(entriesOf(1).map(withoutPushTimes)));
    writeFileSync(join(bundle, 'istiod-pods.json'), podList([['istiod-7d4f9', '1.25.2-distroless']]));
    const run = await cli(['proxy-status', '--file', join(bundle, 'syncz', 'istiod-7d4f9.json')]);
    expect(run.stdout.split('\n')[0]).toMatch(/^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+ECDS\s+ISTIOD\s+VERSION$/);
    expect(run.stderr).toBe('');

    writeFileSync(join(bundle, 'syncz', 'istiod-canary.json'), JSON.stringify(entriesOf(2).map(withoutPushTimes)));
    writeFileSync(
      join(bundle, 'istiod-pods.json'),
      podList([
        ['istiod-7d4f9', '1.25.2'],
        ['istiod-canary', '1.27.3'],
      ]),
    );
    const upgrade = await cli([
      'proxy-status',
      '--file',
      join(bundle, 'syncz', 'istiod-7d4f9.json'),
      join(bundle, 'syncz', 'istiod-canary.json'),
    ]);
    expect(upgrade.stdout.split('\n')[0]).toMatch(/SUBSCRIBED TYPES$/);
    expect(upgrade.stderr).toContain('the istiod replicas run 1.25.2, 1.27.3: printing the 1.27 layout');
  });

  it('measures ages to the time the bundle was taken, when the files belong to one', async () => {
    const root = join(dir, 'timed-bundle');
    mkdirSync(join(root, 'cluster', 'syncz'), { recursive: true });
    writeFileSync(
      join(root, 'manifest.json'),
      JSON.stringify({
        bundleVersion: 1,
        runId: 'r',
        source: 'aws',
        startedAt: '2024-11-20T10:01:00Z',
        finishedAt: '2024-11-20T10:03:05Z',
      }),
    );
    writeFileSync(join(root, 'cluster', 'syncz', 'istiod1.json'), readFileSync(join(fixtures, 'istiod1.json')));
    const run = await cli(['ps', '--file', join(root, 'cluster', 'syncz', 'istiod1.json'), '--istio-version', '1.24']);
    expect(run.stdout.split('\n')[1]!.split(/ {2,}/).slice(2, 7)).toEqual([
      'STALE (3m)',
      'SYNCED (3m4s)',
      'SYNCED (3m4s)',
      'NOT SENT',
      'SYNCED (3m4s)',
    ]);
  });

  it('refuses an --istio-version outside 1.24–1.29', async () => {
    const run = await cli(['proxy-status', '--file', join(fixtures, 'istiod1.json'), '--istio-version', '1.22']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('expected one of 1.24, 1.25, 1.26, 1.27, 1.28, 1.29');
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
