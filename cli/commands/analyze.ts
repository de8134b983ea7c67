import type { Command } from 'commander';
import { LocalArtifactWriter, LocalBundle } from '../../lib/adapters/local-audit-store.ts';
import type { Severity } from '../../lib/core/report.ts';
import { renderTerminalSummary } from '../../lib/core/render/terminal-summary.ts';
import { analyzeStoredBundle } from '../../lib/use-cases/analyze-bundle.ts';
import { exitCodeFor, failOnOption, type CommandContext } from '../context.ts';
import { readWaiversFile } from '../waivers-file.ts';

/** `fleet-audit analyze <bundle-dir>`: rebuild the reports from stored evidence alone. */
export function registerAnalyzeCommand(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('analyze')
    .description('Analyze a stored evidence bundle again and write its reports')
    .argument('<bundle-dir>', 'the evidence bundle directory (…/<run>/evidence)')
    .option('--out <dir>', 'where to write report.json and report.html', '.')
    .option('--waivers <file>', 'accepted FAILs, reported WAIVED until they expire (YAML or JSON: waivers: [...])')
    .addOption(failOnOption())
    .action(async (bundleDir: string, opts: { out: string; waivers?: string; failOn?: Severity }) => {
      const waivers = opts.waivers ? await readWaiversFile(opts.waivers, io.clock()) : [];
      const result = await analyzeStoredBundle(new LocalBundle(bundleDir), new LocalArtifactWriter(opts.out), { waivers });
      io.stdout(renderTerminalSummary(result.report));
      io.stdout(`\nReports:  ${result.written.join('\n          ')}\n`);
      setExitCode(exitCodeFor(result.report, opts.failOn));
    });
}
