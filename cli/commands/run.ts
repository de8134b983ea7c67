import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { LocalAuditStore } from '../../lib/adapters/local-audit-store.ts';
import type { Severity } from '../../lib/core/report.ts';
import { renderTerminalSummary } from '../../lib/core/render/terminal-summary.ts';
import { buildSimFleet, DEFAULT_SIM_SEED, DEFAULT_SIM_VMS } from '../../lib/sim/fleet.ts';
import { SimFleetRunner, SimMeshReader } from '../../lib/sim/sim-sources.ts';
import { runAudit } from '../../lib/use-cases/run-audit.ts';
import { exitCodeFor, failOnOption, type CommandContext } from '../context.ts';

interface RunOptions {
  source: 'sim';
  vms: number;
  seed: number;
  out: string;
  runId?: string;
  failOn?: Severity;
}

/** `fleet-audit run`: audit the fleet, store the evidence bundle and the reports, print the summary. */
export function registerRunCommand(program: Command, { io, toolVersion, setExitCode }: CommandContext): void {
  program
    .command('run')
    .description('Audit the fleet and write the evidence bundle and reports to the store')
    .addOption(new Option('--source <source>', 'where the fleet is').choices(['sim']).default('sim'))
    .option('--vms <n>', 'size of the simulated fleet', positiveInt, DEFAULT_SIM_VMS)
    .option('--seed <s>', 'seed of the simulated fleet', nonNegativeInt, DEFAULT_SIM_SEED)
    .option('--out <dir>', 'the local audit store', 'audit-store')
    .option('--run-id <id>', 'the run id (default: the start time and a random suffix)')
    .addOption(failOnOption())
    .action(async (opts: RunOptions) => {
      const startedAt = io.clock();
      const fleet = buildSimFleet({ vms: opts.vms, seed: opts.seed, now: startedAt });
      const runId = opts.runId ?? `${startedAt.toISOString().replace(/[-:]|\.\d{3}/g, '')}-${opts.source}-${randomBytes(2).toString('hex')}`;
      const result = await runAudit(
        { fleet: new SimFleetRunner(fleet), mesh: new SimMeshReader(fleet), store: new LocalAuditStore(opts.out), clock: io.clock },
        { runId, source: 'sim', toolVersion, targets: { simulated: { vms: opts.vms, seed: opts.seed } } },
      );
      io.stdout(renderTerminalSummary(result.report));
      io.stdout(`\nEvidence: ${result.location}/evidence\nReports:  ${result.written.join('\n          ')}\n`);
      setExitCode(exitCodeFor(result.report, opts.failOn));
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}
