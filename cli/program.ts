import { randomBytes } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { BundleError, LocalArtifactWriter, LocalAuditStore, LocalBundle } from '../lib/adapters/local-audit-store.ts';
import { isFailingAtOrAbove, SEVERITIES, type Report, type Severity } from '../lib/core/report.ts';
import { renderTerminalSummary } from '../lib/core/render/terminal-summary.ts';
import { buildSimFleet, DEFAULT_SIM_SEED, DEFAULT_SIM_VMS } from '../lib/sim/fleet.ts';
import { SimFleetRunner, SimMeshReader } from '../lib/sim/sim-sources.ts';
import { analyzeStoredBundle } from '../lib/use-cases/analyze-bundle.ts';
import { runAudit } from '../lib/use-cases/run-audit.ts';

/** Exit codes: 0 done, 1 a finding failed at or above --fail-on, 2 bad usage or bad input. */
export const EXIT_OK = 0;
export const EXIT_FAILED_CONTROLS = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  clock: () => Date;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  clock: () => new Date(),
};

/** Runs the `fleet-audit` command line and resolves to its exit code. */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command('fleet-audit')
    .description('Audit a fleet of Istio VMs: run the diagnostic script on every VM, cross-check the mesh, report.')
    .version(packageJson.version)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  program
    .command('run')
    .description('Audit the fleet and write the evidence bundle and reports to the store')
    .addOption(new Option('--source <source>', 'where the fleet is').choices(['sim']).default('sim'))
    .option('--vms <n>', 'size of the simulated fleet', positiveInt, DEFAULT_SIM_VMS)
    .option('--seed <s>', 'seed of the simulated fleet', nonNegativeInt, DEFAULT_SIM_SEED)
    .option('--out <dir>', 'the local audit store', 'audit-store')
    .option('--run-id <id>', 'the run id (default: the start time and a random suffix)')
    .addOption(failOnOption())
    .action(async (opts: { vms: number; seed: number; out: string; runId?: string; failOn?: Severity }) => {
      const startedAt = io.clock();
      const fleet = buildSimFleet({ vms: opts.vms, seed: opts.seed, now: startedAt });
      const runId = opts.runId ?? `${startedAt.toISOString().replace(/[-:]|\.\d{3}/g, '')}-sim-${randomBytes(2).toString('hex')}`;
      const result = await runAudit(
        { fleet: new SimFleetRunner(fleet), mesh: new SimMeshReader(fleet), store: new LocalAuditStore(opts.out), clock: io.clock },
        { runId, source: 'sim', toolVersion: packageJson.version, targets: { simulated: { vms: opts.vms, seed: opts.seed } } },
      );
      io.stdout(renderTerminalSummary(result.report));
      io.stdout(`\nEvidence: ${result.location}/evidence\nReports:  ${result.written.join('\n          ')}\n`);
      exitCode = exitCodeFor(result.report, opts.failOn);
    });

  program
    .command('analyze')
    .description('Analyze a stored evidence bundle again and write its reports')
    .argument('<bundle-dir>', 'the evidence bundle directory (…/<run>/evidence)')
    .option('--out <dir>', 'where to write report.json and report.html', '.')
    .addOption(failOnOption())
    .action(async (bundleDir: string, opts: { out: string; failOn?: Severity }) => {
      const result = await analyzeStoredBundle(new LocalBundle(bundleDir), new LocalArtifactWriter(opts.out));
      io.stdout(renderTerminalSummary(result.report));
      io.stdout(`\nReports:  ${result.written.join('\n          ')}\n`);
      exitCode = exitCodeFor(result.report, opts.failOn);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (isCommanderExit(error)) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (error instanceof BundleError) {
      io.stderr(`fleet-audit: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

function failOnOption(): Option {
  return new Option('--fail-on <severity>', 'exit 1 when a finding of this severity or above fails').choices(SEVERITIES as Severity[]);
}

function exitCodeFor(report: Report, failOn: Severity | undefined): number {
  if (!failOn) return EXIT_OK;
  return report.findings.some((f) => isFailingAtOrAbove(f, failOn)) ? EXIT_FAILED_CONTROLS : EXIT_OK;
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

function isCommanderExit(error: unknown): error is { exitCode: number; code: string } {
  return typeof error === 'object' && error !== null && 'code' in error && String((error as { code: unknown }).code).startsWith('commander.');
}
