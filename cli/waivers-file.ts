import { readFile } from 'node:fs/promises';
import { WaiversFileSchema, type Waiver } from '../lib/core/waivers.ts';
import { CliUsageError } from './context.ts';

/** Reads a waivers file (`{"waivers": [...]}`), or says exactly which file and which entry is wrong. */
export async function readWaiversFile(path: string): Promise<Waiver[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CliUsageError(`${path}: cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new CliUsageError(`${path}: is not valid JSON (${(cause as Error).message})`);
  }
  const parsed = WaiversFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliUsageError(`${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.waivers;
}
