import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalAuditStore } from '../lib/adapters/local-audit-store.ts';
import { LocalRunHistory } from '../lib/adapters/local-run-history.ts';
import { parsePeriod } from '../lib/core/compliance/compliance-report.ts';
import { renderComplianceCsv } from '../lib/core/render/compliance-csv.ts';
import { renderComplianceHtml } from '../lib/core/render/compliance-html.ts';
import { renderComplianceSummary } from '../lib/core/render/compliance-terminal.ts';
import { buildSimFleetAsync } from '../sim/fleet.ts';
import { SimFleetRunner, SimMeshReader } from '../sim/sim-sources.ts';
import { complianceOverTime } from '../lib/use-cases/compliance-over-time.ts';
import { runAudit } from '../lib/use-cases/run-audit.ts';

/**
 * A month of daily audits of an aging simulated fleet (faults appear, persist and get fixed), then the
 * compliance report over it: printed, and written beside the runs as compliance.{html,json,csv}.
 */
const STORE = resolve(process.argv[2] ?? 'audit-store-demo');
const DAYS = 30;
const VMS = 50;
const SEED = 7;
const FIRST_DAY = Date.parse('2026-11-01T06:00:00Z');

await rm(STORE, { recursive: true, force: true });
await mkdir(STORE, { recursive: true });
const store = new LocalAuditStore(STORE);
for (let day = 0; day < DAYS; day++) {
  const startedAt = new Date(FIRST_DAY + day * 86_400_000);
  // The run takes two minutes of simulated time, whatever this machine's clock says.
  const clock = (): Date => new Date(startedAt.getTime() + 120_000);
  const fleet = await buildSimFleetAsync({ vms: VMS, seed: SEED, now: startedAt, day });
  const runId = `${startedAt.toISOString().slice(0, 10)}-daily`;
  await runAudit(
    { fleet: new SimFleetRunner(fleet), mesh: new SimMeshReader(fleet), store, clock },
    { runId, source: 'sim', toolVersion: 'demo', targets: { simulated: { vms: VMS, seed: SEED, day } } },
  );
  process.stderr.write(`\raudited day ${day + 1} of ${DAYS}`);
}
process.stderr.write('\n');

const { compliance } = await complianceOverTime(new LocalRunHistory(STORE), parsePeriod('30d')!);
await writeFile(join(STORE, 'compliance.json'), `${JSON.stringify(compliance, null, 2)}\n`);
await writeFile(join(STORE, 'compliance.csv'), renderComplianceCsv(compliance));
await writeFile(join(STORE, 'compliance.html'), renderComplianceHtml(compliance));
process.stdout.write(renderComplianceSummary(compliance));
process.stdout.write(
  `\nRuns:       ${STORE}/<run id>/\nCompliance: ${join(STORE, 'compliance.html')}\n            ${join(STORE, 'compliance.json')}\n            ${join(STORE, 'compliance.csv')}\n`,
);
