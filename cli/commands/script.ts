import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';

const SCRIPT = new URL('../../lib/diagnostic-script/fleet-audit-diagnostics.sh', import.meta.url);

/** `fleet-audit script`: prints the VM diagnostic script verbatim, so `fleet-audit script | ssh vm sudo sh` works. */
export function registerScriptCommand(program: Command, { io }: CommandContext): void {
  program
    .command('script')
    .description('Print the read-only VM diagnostic script (run it on a VM: fleet-audit script | ssh <vm> sudo sh)')
    .action(async () => {
      io.stdout(await readFile(SCRIPT, 'utf8'));
    });
}
