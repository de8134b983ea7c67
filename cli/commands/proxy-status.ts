import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { proxyStatusRows } from '../../lib/core/proxy-status.ts';
import { renderProxyStatusTable } from '../../lib/core/render/proxy-status-table.ts';
import { CliUsageError, type CommandContext } from '../context.ts';

// One replica's syncz answer; the optional `istiod` field lets a file saved under any name say which replica it is.
const SynczFileSchema = z.array(z.unknown());
const IstiodFieldSchema = z.looseObject({ istiod: z.string().min(1).optional().catch(undefined) });

/**
 * `fleet-audit proxy-status --file <syncz.json>...`: istioctl's proxy-status table from saved
 * `/debug/syncz` answers, one file per istiod replica. istioctl fills ISTIOD with the identity of the
 * replica that answered; here that is the file name without `.json` (save each answer as
 * `<istiod-pod>.json`, as the evidence bundle does), or the entry's `istiod` field when it has one.
 */
export function registerProxyStatusCommand(program: Command, { io }: CommandContext): void {
  program
    .command('proxy-status')
    .description("Print istioctl's proxy-status table from saved istiod /debug/syncz answers")
    .requiredOption('--file <syncz.json...>', "one istiod replica's /debug/syncz JSON array per file ('-' for standard input)")
    .action(async (opts: { file: string[] }) => {
      const replicas: Array<{ istiod: string; syncz: unknown[] }> = [];
      for (const file of opts.file) {
        const entries = await readSynczFile(file, io.readStdin);
        const fromName = file === '-' ? 'stdin' : basename(file).replace(/\.json$/i, '');
        // Entries naming their replica are grouped under it; the rest belong to the file's replica.
        const byIstiod = new Map<string, unknown[]>();
        for (const entry of entries) {
          const istiod = IstiodFieldSchema.safeParse(entry).data?.istiod ?? fromName;
          byIstiod.set(istiod, [...(byIstiod.get(istiod) ?? []), entry]);
        }
        for (const [istiod, syncz] of byIstiod) replicas.push({ istiod, syncz });
        const { invalid } = proxyStatusRows([{ istiod: fromName, syncz: entries }]);
        const first = invalid[0];
        if (first) throw new CliUsageError(`${file}: entry ${first.index} is not a syncz proxy status (${first.reason})`);
      }
      io.stdout(renderProxyStatusTable(proxyStatusRows(replicas).rows));
    });
}

async function readSynczFile(file: string, readStdin: () => Promise<string>): Promise<unknown[]> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliUsageError(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`${file}: not JSON (${(error as Error).message})`);
  }
  const parsed = SynczFileSchema.safeParse(json);
  if (!parsed.success) throw new CliUsageError(`${file}: not a /debug/syncz answer (expected a JSON array of proxy statuses)`);
  return parsed.data;
}
