import type { Command } from 'commander';
import { composeLocalArtifactWriter, composeLocalBundle } from '../../lib/compose/local-side.ts';
import type { ReportFormat } from '../../lib/core/render/artifacts.ts';
import type { Severity } from '../../lib/core/report.ts';
import { renderTerminalSummary } from '../../lib/core/render/terminal-summary.ts';
import { analyzeStoredBundle } from '../../lib/use-cases/analyze-bundle.ts';
import type { Artifact, ArtifactWriter } from '../../lib/ports/audit-store.ts';
import {
  failOnOption,
  failOnUnknownOption,
  gateExit,
  outputOption,
  reportFormatsOption,
  reportJson,
  type CommandContext,
} from '../context.ts';
import { readWaiversFile } from '../waivers-file.ts';

/** `fleet-audit analyze <bundle-dir>`: rebuild the reports from stored evidence alone. */
export function registerAnalyzeCommand(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('analyze')
    .description('Analyze a stored evidence bundle again and write its reports')
    .argument('<bundle-dir>', 'the evidence bundle directory (…/<run>/evidence)')
    .option('--out <dir>', 'where to write the reports; - prints report.json on standard output and writes nothing', '.')
    .addOption(reportFormatsOption())
    .option('--waivers <file>', 'accepted FAILs, reported WAIVED until they expire (YAML or JSON: waivers: [...])')
    .addOption(failOnOption())
    .addOption(failOnUnknownOption())
    .addOption(outputOption())
    .action(
      async (
        bundleDir: string,
        opts: { out: string; format?: ReportFormat[]; waivers?: string; failOn?: Severity; failOnUnknown?: boolean; output?: 'json' },
      ) => {
        const waivers = opts.waivers ? await readWaiversFile(opts.waivers, io.clock()) : [];
        const toStdout = opts.out === '-';
        const result = await analyzeStoredBundle(
          composeLocalBundle(bundleDir),
          toStdout ? DISCARD : composeLocalArtifactWriter(opts.out),
          { waivers },
          opts.format,
        );
        if (toStdout || opts.output === 'json') {
          io.stdout(reportJson(result.report));
        } else {
          io.stdout(renderTerminalSummary(result.report));
          io.stdout(`\nReports:  ${result.written.join('\n          ')}\n`);
        }
        setExitCode(gateExit(result.report, { failOn: opts.failOn, failOnUnknown: opts.failOnUnknown === true }, io));
      },
    );
}

/** `--out -`: the report goes to standard output, and no file is written. */
const DISCARD: ArtifactWriter = { writeArtifact: async (artifact: Artifact) => artifact.name };
