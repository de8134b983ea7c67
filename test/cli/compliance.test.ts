import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAuditStore } from '../../lib/adapters/local-audit-store.ts';
import { ComplianceReportSchema } from '../../lib/core/compliance/compliance-report.ts';
import { buildSimFleetAsync } from '../../sim/fleet.ts';
import { SimFleetRunner, SimMeshReader } from '../../sim/sim-sources.ts';
import { runAudit } from '../../lib/use-cases/run-audit.ts';
import { cli } from '../support/cli.ts';

// A store of three daily runs of an aging simulated fleet; the newest is kept as a report.json alone.
describe('fleet-audit compliance', () => {
  let store: string;
  beforeAll(async () => {
    store = mkdtempSync(join(tmpdir(), 'fleet-audit-compliance-'));
    const audits = new LocalAuditStore(store);
    for (const day of [0, 1, 2]) {
      const now = new Date(Date.parse('2026-11-01T06:00:00Z') + day * 86_400_000);
      const fleet = await buildSimFleetAsync({ vms: 20, seed: 5, now, day });
      await runAudit(
        { fleet: new SimFleetRunner(fleet), mesh: new SimMeshReader(fleet), store: audits, clock: () => now },
        { runId: `day-${day}`, source: 'sim', toolVersion: 'test' },
      );
    }
    rmSync(join(store, 'day-2', 'evidence'), { recursive: true });
    for (const extra of ['digest.json', 'report.html'])
      if (existsSync(join(store, 'day-2', extra))) unlinkSync(join(store, 'day-2', extra));
    mkdirSync(join(store, 'broken'));
    writeFileSync(join(store, 'broken', 'report.json'), '{"schemaVersion": 1, "runId": "secret-content"');
  });
  afterAll(() => rmSync(store, { recursive: true, force: true }));

  it('-o json prints the compliance document of every readable run, and names the run it left out', async () => {
    const result = await cli(['compliance', store, '-o', 'json']);
    expect(result.code).toBe(0);
    const compliance = ComplianceReportSchema.parse(JSON.parse(result.stdout));
    expect(compliance.runs.map((r) => r.runId)).toEqual(['day-0', 'day-1', 'day-2']);
    expect(compliance.to).toBe('2026-11-03T06:00:00.000Z');
    expect(compliance.controls.length).toBeGreaterThan(30);
    expect(compliance.controls[0]!.days.map((d) => d.date)).toEqual(['2026-11-01', '2026-11-02', '2026-11-03']);
    expect(result.stderr).toBe(`fleet-audit: left out run broken: ${join(store, 'broken', 'report.json')}: is not valid JSON\n`);
  });

  it('--since narrows the period to the newest runs', async () => {
    const result = await cli(['compliance', store, '--since', '36h', '--format', 'json']);
    expect(JSON.parse(result.stdout).runs.map((r: { runId: string }) => r.runId)).toEqual(['day-1', 'day-2']);
  });

  it('prints a summary on the terminal and writes html and csv to a file', async () => {
    const summary = await cli(['compliance', store]);
    expect(summary.stdout).toMatch(/^Compliance from .* to 2026-11-03T06:00:00.000Z: 3 runs$/m);
    const out = join(store, 'compliance.html');
    const html = await cli(['compliance', store, '--format', 'html', '--out', out]);
    expect(html.stdout).toBe(`Compliance: ${out}\n`);
    expect(readFileSync(out, 'utf8')).toContain('<svg');
    expect((await cli(['compliance', store, '--format', 'csv'])).stdout).toMatch(
      /^control,severity,title,date,runs,pass,fail,error,waived,compliant_share,trend\r\n/,
    );
  });

  it('refuses a period it cannot read', async () => {
    const result = await cli(['compliance', store, '--since', 'a month']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected a period such as 30d, 12h or 2w');
  });
});
