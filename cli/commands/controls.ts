import type { Command } from 'commander';
import { CONTROLS } from '../../lib/core/controls/catalogue.ts';
import { controlsJson, renderControlsTable } from '../../lib/core/render/controls-table.ts';
import { outputOption, type CommandContext } from '../context.ts';

/** `fleet-audit controls`: the catalogue the audit evaluates (docs/controls.md says what each one checks). */
export function registerControlsCommand(program: Command, { io }: CommandContext): void {
  program
    .command('controls')
    .description('List the controls the audit evaluates')
    .addOption(outputOption())
    .action((opts: { output?: 'json' }) => {
      io.stdout(opts.output === 'json' ? `${JSON.stringify(controlsJson(CONTROLS), null, 2)}\n` : renderControlsTable(CONTROLS));
    });
}
