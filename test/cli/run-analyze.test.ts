import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cp } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';

describe('fleet-audit run and analyze', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run audits the simulated fleet, prints the summary and where it wrote the reports', async () => {
    const run = await cli(['run', '--out', join(dir, 'store'), '--run-id', 'r1', '--vms', '12', '--seed', '3']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Fleet audit r1 \(sim\)/);
    expect(run.stdout).toMatch(/^12 VMs: \d+ compliant, \d+ non-compliant, \d+ unknown$/m);
    expect(run.stdout).toContain(`Reports:  ${join(dir, 'store', 'r1', 'report.json')}`);
    expect(existsSync(join(dir, 'store', 'r1', 'report.html'))).toBe(true);
    expect(existsSync(join(dir, 'store', 'r1', 'evidence', 'manifest.json'))).toBe(true);
  });

  it('analyze reproduces the stored report from the bundle alone', async () => {
    const out = join(dir, 'replay');
    const run = await cli(['analyze', join(dir, 'store', 'r1', 'evidence'), '--out', out], { now: new Date('2027-01-01T00:00:00Z') });
    expect(run.code).toBe(0);
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(readFileSync(join(dir, 'store', 'r1', 'report.json'), 'utf8'));
  });

  it('--fail-on sets the exit code from the failing findings', async () => {
    const bundle = join(dir, 'store', 'r1', 'evidence');
    expect((await cli(['analyze', bundle, '--out', join(dir, 'f1'), '--fail-on', 'CRITICAL'])).code).toBe(1);
    expect(
      (await cli(['run', '--out', join(dir, 'store'), '--run-id', 'r2', '--vms', '12', '--seed', '3', '--fail-on', 'HIGH'])).code,
    ).toBe(1);
  });

  it('refuses a second run with the same id rather than mixing two runs', async () => {
    const run = await cli(['run', '--out', join(dir, 'store'), '--run-id', 'r1', '--vms', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('a run with this id is already stored');
  });

  it('exits 2 naming the problem for a missing bundle directory', async () => {
    const run = await cli(['analyze', join(dir, 'nope'), '--out', join(dir, 'nope-out')]);
    expect(run).toMatchObject({ code: 2, stderr: `fleet-audit: ${join(dir, 'nope')}: no such bundle directory\n` });
    expect(existsSync(join(dir, 'nope-out'))).toBe(false);
  });

  it.each([
    ['an invocation that is not JSON', 'invocations', (f: string) => writeFileSync(f, '{"InstanceId": "i-'), /is not valid JSON/],
    ['an invocation of the wrong shape', 'invocations', (f: string) => writeFileSync(f, '{"InstanceId": 5}'), /InstanceId: Invalid input/],
    [
      'an unknown bundleVersion',
      'manifest.json',
      (f: string) => writeFileSync(f, '{"bundleVersion": 2, "runId": "x"}'),
      /bundleVersion 2 is not supported \(this tool reads bundleVersion 1\)/,
    ],
    [
      'a syncz answer that is not an array',
      'cluster/syncz',
      (f: string) => writeFileSync(f, '{"error": "unauthorized"}'),
      /expected array/,
    ],
  ])('exits 2 naming the file for %s, and writes no report', async (_what, part, spoil, message) => {
    const bundle = join(dir, `bad-${part.replace('/', '-')}`);
    await cp(join(dir, 'store', 'r1', 'evidence'), bundle, { recursive: true });
    const file = part.endsWith('.json') ? join(bundle, part) : join(bundle, part, readdirFirst(join(bundle, part)));
    spoil(file);
    const out = join(dir, `out-${part.replace('/', '-')}`);
    const run = await cli(['analyze', bundle, '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(file);
    expect(run.stderr).toMatch(message);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  });

  it('analyze --waivers reports the covered FAILs as WAIVED, and refuses a bad waivers file naming it', async () => {
    const file = join(dir, 'waivers.json');
    writeFileSync(
      file,
      JSON.stringify({
        waivers: [{ control: 'REG-02', justification: 'machine being rebuilt', owner: 'ops', expires: '2027-06-01T00:00:00Z' }],
      }),
    );
    const run = await cli(['analyze', join(dir, 'store', 'r1', 'evidence'), '--out', join(dir, 'waived'), '--waivers', file]);
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'waived', 'report.json'), 'utf8')) as {
      findings: Array<{ control: string; status: string }>;
    };
    expect(report.findings.filter((f) => f.control === 'REG-02' && f.status === 'FAIL')).toEqual([]);
    expect(report.findings.some((f) => f.control === 'REG-02' && f.status === 'WAIVED')).toBe(true);
    writeFileSync(file, JSON.stringify({ waivers: [{ control: 'REG-02', justification: 'forever', owner: 'ops' }] }));
    const bad = await cli(['analyze', join(dir, 'store', 'r1', 'evidence'), '--out', join(dir, 'waived-bad'), '--waivers', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${file}: waivers[0] (REG-02): expires:`);
    expect(existsSync(join(dir, 'waived-bad', 'report.json'))).toBe(false);
  });

  it('run --waivers applies them to the new audit, and a malformed file stops it before it starts', async () => {
    const file = join(dir, 'run-waivers.json');
    writeFileSync(
      file,
      JSON.stringify({
        waivers: [
          { control: 'REG-02', justification: 'machine being rebuilt', owner: 'ops', expires: '2027-06-01T00:00:00Z' },
          { control: 'NET-99', justification: 'typo', owner: 'ops', expires: '2027-06-01T00:00:00Z' },
        ],
      }),
    );
    const run = await cli(['run', '--out', join(dir, 'store'), '--run-id', 'waived-run', '--vms', '12', '--seed', '3', '--waivers', file]);
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'store', 'waived-run', 'report.json'), 'utf8')) as {
      waivers: Array<{ control: string; state: string }>;
    };
    expect(report.waivers.map((w) => [w.control, w.state])).toEqual([
      ['REG-02', 'active'],
      ['NET-99', 'unknown-control'],
    ]);
    writeFileSync(file, '{"waivers": [{"control": "REG-02"}]}');
    const bad = await cli(['run', '--out', join(dir, 'store'), '--run-id', 'waived-bad', '--vms', '3', '--waivers', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${file}: waivers[0] (REG-02): justification:`);
    expect(existsSync(join(dir, 'store', 'waived-bad'))).toBe(false);
  });

  it('analyze --waivers reads YAML too, with times left as text', async () => {
    const file = join(dir, 'waivers.yaml');
    writeFileSync(
      file,
      'waivers:\n  - control: REG-02\n    subject: {kind: workloadentry}\n    justification: machine being rebuilt\n    owner: ops\n    expires: 2027-06-01T00:00:00Z\n',
    );
    const run = await cli(['analyze', join(dir, 'store', 'r1', 'evidence'), '--out', join(dir, 'waived-yaml'), '--waivers', file]);
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'waived-yaml', 'report.json'), 'utf8')) as {
      waivers: Array<{ state: string; expires: string }>;
    };
    expect(report.waivers.map((w) => [w.state, w.expires])).toEqual([['active', '2027-06-01T00:00:00Z']]);
    writeFileSync(file, 'waivers:\n  - control: [REG-02\n');
    const bad = await cli(['analyze', join(dir, 'store', 'r1', 'evidence'), '--out', join(dir, 'waived-yaml-bad'), '--waivers', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${file}: is not valid YAML`);
  });

  it('rejects bad flags with a usage error', async () => {
    expect((await cli(['run', '--vms', '0'])).code).toBe(2);
    expect((await cli(['run', '--fail-on', 'SEVERE'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
  });
});

function readdirFirst(dir: string): string {
  return readdirSync(dir).sort()[0]!;
}

describe('fleet-audit for CI and people', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-ci-'));
    expect((await cli(['run', '--out', join(dir, 'store'), '--run-id', 'r1', '--vms', '12', '--seed', '3'])).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--fail-on takes any case and says on one line which findings failed; --fail-on-unknown counts UNKNOWN VMs', async () => {
    const bundle = join(dir, 'store', 'r1', 'evidence');
    const high = await cli(['analyze', bundle, '--out', join(dir, 'a1'), '--fail-on', 'high']);
    expect(high.code).toBe(1);
    expect(high.stderr).toMatch(/^fleet-audit: \d+ findings failed at or above HIGH \([A-Z]+-\d{2} ×\d+.*\)\n$/);
    const unknown = await cli(['analyze', bundle, '--out', join(dir, 'a2'), '--fail-on-unknown']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^fleet-audit: 1 VM was UNKNOWN \(could not be checked\)\n$/);
    expect((await cli(['analyze', bundle, '--out', join(dir, 'a3')])).code).toBe(0);
  });

  it('-o json prints the report, and --out - prints it without writing anything', async () => {
    const bundle = join(dir, 'store', 'r1', 'evidence');
    const json = await cli(['analyze', bundle, '--out', join(dir, 'j1'), '-o', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(readFileSync(join(dir, 'j1', 'report.json'), 'utf8')));
    const piped = await cli(['analyze', bundle, '--out', '-']);
    expect(JSON.parse(piped.stdout).runId).toBe('r1');
    expect(existsSync('-')).toBe(false);
    const run = await cli(['run', '--out', '-', '--vms', '3', '--run-id', 'piped']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ runId: 'piped', summary: { vms: 3 } });
    expect(existsSync('-')).toBe(false);
  });

  it('show describes one VM of a run by hostname or instance id, from the report or the bundle', async () => {
    const report = JSON.parse(readFileSync(join(dir, 'store', 'r1', 'report.json'), 'utf8')) as {
      vms: Array<{ instanceId: string; hostname: string | null }>;
    };
    const vm = report.vms.find((v) => v.hostname)!;
    const byName = await cli(['show', join(dir, 'store', 'r1'), vm.hostname!]);
    expect(byName.code).toBe(0);
    expect(byName.stdout).toContain(`Instance:      ${vm.instanceId}\n`);
    const fromBundle = await cli(['show', join(dir, 'store', 'r1', 'evidence'), vm.instanceId, '-o', 'json']);
    expect(JSON.parse(fromBundle.stdout)).toMatchObject({ runId: 'r1', vm: { instanceId: vm.instanceId } });
    const missing = await cli(['show', join(dir, 'store', 'r1'), 'no-such-vm']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('fleet-audit: no VM of run r1 has the instance id or hostname "no-such-vm"\n');
  });

  it('controls lists the catalogue, and a usage error is one line and a hint', async () => {
    const controls = await cli(['controls', '-o', 'json']);
    expect((JSON.parse(controls.stdout) as unknown[]).length).toBeGreaterThanOrEqual(34);
    const bad = await cli(['run', '--fail-on', 'SEVERE']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      "error: option '--fail-on <severity>' argument 'SEVERE' is invalid. expected one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL",
      '(add --help for usage)',
    ]);
  });
});

describe('--format', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-format-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const reportFiles = (at: string): string[] =>
    readdirSync(at)
      .filter((f) => f.startsWith('report.'))
      .sort();

  it('run writes every report file by default, and only report.json and the ones asked for with --format', async () => {
    expect((await cli(['run', '--out', join(dir, 'store'), '--run-id', 'all', '--vms', '3'])).code).toBe(0);
    expect(reportFiles(join(dir, 'store', 'all'))).toEqual([
      'report.csv',
      'report.html',
      'report.json',
      'report.junit.xml',
      'report.ocsf.json',
    ]);
    const some = await cli(['run', '--out', join(dir, 'store'), '--run-id', 'some', '--vms', '3', '--format', 'JUnit, csv']);
    expect(some.code).toBe(0);
    expect(reportFiles(join(dir, 'store', 'some'))).toEqual(['report.csv', 'report.json', 'report.junit.xml']);
    expect(some.stdout).toContain(
      `Reports:  ${join(dir, 'store', 'some', 'report.json')}\n          ${join(dir, 'store', 'some', 'report.csv')}\n`,
    );
  });

  it('analyze writes report.json even when it is not asked for', async () => {
    const out = join(dir, 'ocsf-only');
    expect((await cli(['analyze', join(dir, 'store', 'all', 'evidence'), '--out', out, '--format', 'ocsf'])).code).toBe(0);
    expect(reportFiles(out)).toEqual(['report.json', 'report.ocsf.json']);
    expect(readFileSync(join(out, 'report.ocsf.json'), 'utf8')).toBe(readFileSync(join(dir, 'store', 'all', 'report.ocsf.json'), 'utf8'));
  });

  it.each([
    ['an unknown format', 'json,pdf', `'json,pdf' is invalid. "pdf": expected a comma-separated list of json, html, csv, junit, ocsf`],
    ['an empty list', ',', `',' is invalid. expected a comma-separated list of json, html, csv, junit, ocsf`],
  ])('refuses %s with a one-line usage error, before anything runs', async (_what, value, message) => {
    for (const args of [
      ['run', '--out', join(dir, 'bad-store'), '--vms', '3'],
      ['analyze', join(dir, 'store', 'all', 'evidence'), '--out', join(dir, 'bad-out')],
    ]) {
      const bad = await cli([...args, '--format', value]);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toEqual([`error: option '--format <formats>' argument ${message}`, '(add --help for usage)']);
    }
    expect(existsSync(join(dir, 'bad-store'))).toBe(false);
    expect(existsSync(join(dir, 'bad-out'))).toBe(false);
  });

  it('says in --help that report.json is always written', async () => {
    for (const command of ['run', 'analyze']) {
      const help = await cli([command, '--help']);
      expect(help.stdout.replace(/\s+/g, ' ')).toContain(
        '--format <formats> report files to write, comma-separated: json, html, csv, junit, ocsf (default: all); report.json is always written, as the source of truth the others are made from',
      );
    }
  });
});
