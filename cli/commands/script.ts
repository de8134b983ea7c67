import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DIAGNOSTIC_SCRIPT_URL } from '../../lib/diagnostic-script/script-location.ts';
import type { CommandContext } from '../context.ts';

/** `fleet-audit script`: prints the VM diagnostic script verbatim, so `fleet-audit script | ssh vm sudo sh` works. */
export function registerScriptCommand(program: Command, { io }: CommandContext): void {
  program
    .command('script')
    .description('Print the read-only VM diagnostic script (run it on a VM: fleet-audit script | ssh <vm> sudo sh)')
    .action(async () => {
      io.stdout(await readFile(DIAGNOSTIC_SCRIPT_URL, 'utf8'));
    });
}
