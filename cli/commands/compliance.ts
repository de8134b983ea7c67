import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { composeLocalRunHistory } from '../../lib/compose/local-side.ts';
import { parsePeriod } from '../../lib/core/compliance/compliance-report.ts';
import { renderComplianceCsv } from '../../lib/core/render/compliance-csv.ts';
import { renderComplianceHtml } from '../../lib/core/render/compliance-html.ts';
import { renderComplianceSummary } from '../../lib/core/render/compliance-terminal.ts';
import { complianceOverTime } from '../../lib/use-cases/compliance-over-time.ts';
import type { CommandContext } from '../context.ts';

const FORMATS = ['json', 'html', 'csv'] as const;
type ComplianceFormat = (typeof FORMATS)[number];

interface ComplianceOptions {
  since: number;
  format?: ComplianceFormat;
  output?: 'json';
  out?: string;
}

/** `fleet-audit compliance <store>`: compliance over time, from the runs stored in a local audit store. */
export function registerComplianceCommand(program: Command, { io }: CommandContext): void {
  program
    .command('compliance')
    .description('Compliance over time from the stored runs: per control and day, open and fixed findings, waivers')
    .argument('<store>', 'the local audit store (the directory `run --out` writes to)')
    .option('--since <period>', 'the period that ends with the newest run: Nh, Nd or Nw', periodArgument, parsePeriod('30d'))
    .addOption(new Option('--format <format>', 'json, html or csv (default: a table on the terminal)').choices(FORMATS))
    .addOption(new Option('-o, --output <format>', 'json: the same as --format json').choices(['json']))
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (store: string, opts: ComplianceOptions) => {
      const { compliance, unreadable } = await complianceOverTime(composeLocalRunHistory(store), opts.since);
      for (const run of unreadable) io.stderr(`fleet-audit: left out run ${run.runId}: ${run.reason}\n`);
      const format = opts.output ?? opts.format;
      const body =
        format === 'json'
          ? `${JSON.stringify(compliance, null, 2)}\n`
          : format === 'csv'
            ? renderComplianceCsv(compliance)
            : format === 'html'
              ? renderComplianceHtml(compliance)
              : renderComplianceSummary(compliance);
      if (opts.out) {
        await writeFile(opts.out, body);
        io.stdout(`Compliance: ${opts.out}\n`);
      } else {
        io.stdout(body);
      }
    });
}

function periodArgument(value: string): number {
  const ms = parsePeriod(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a period such as 30d, 12h or 2w');
  return ms;
}
