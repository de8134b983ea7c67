import type { Command } from 'commander';
import { composeLocalReportSource } from '../../lib/compose/local-side.ts';
import { describeVm, findVm, renderVmDescription } from '../../lib/core/render/vm-description.ts';
import { sanitizeForTerminal } from '../../lib/core/render/text.ts';
import { loadReport } from '../../lib/use-cases/load-report.ts';
import { CliUsageError, outputOption, type CommandContext } from '../context.ts';

/** `fleet-audit show <run-or-bundle> <instance-id|hostname>`: one VM's findings, as `kubectl describe` shows an object. */
export function registerShowCommand(program: Command, { io }: CommandContext): void {
  program
    .command('show')
    .description("Show one VM's findings from a stored run (or an evidence bundle)")
    .argument('<run-or-bundle>', 'a run directory of the store (…/<run id>) or an evidence bundle directory')
    .argument('<vm>', 'the instance id, or the hostname')
    .addOption(outputOption())
    .action(async (dir: string, key: string, opts: { output?: 'json' }) => {
      const report = await loadReport(composeLocalReportSource(dir));
      if (!report) throw new CliUsageError(`${dir}: holds neither a report.json nor an evidence bundle`);
      const found = findVm(report, key);
      if ('matches' in found) {
        if (found.matches.length === 0)
          throw new CliUsageError(
            `no VM of run ${report.runId} has the instance id or hostname ${JSON.stringify(sanitizeForTerminal(key))}`,
          );
        throw new CliUsageError(
          `${found.matches.length} VMs have the hostname ${JSON.stringify(sanitizeForTerminal(key))}: ${found.matches.map((vm) => vm.instanceId).join(', ')}; name one by its instance id`,
        );
      }
      const description = describeVm(report, found.vm);
      io.stdout(opts.output === 'json' ? `${JSON.stringify(description, null, 2)}\n` : renderVmDescription(description));
    });
}
