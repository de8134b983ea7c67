import { readFile } from 'node:fs/promises';
import { WaiversError, type Waiver } from '../lib/core/waivers.ts';
import { parseWaiversText, WAIVERS_TEXT_LIMIT } from '../lib/core/waivers-text.ts';
import { CliUsageError } from './context.ts';

/**
 * Reads a waivers file, JSON or YAML (`waivers: [...]`), or says exactly which file and which entry is
 * wrong. `now` is when it is read: no waiver may expire more than a year later.
 */
export async function readWaiversFile(path: string, now: Date): Promise<Waiver[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CliUsageError(`${path}: cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`);
  }
  if (text.length > WAIVERS_TEXT_LIMIT) throw new CliUsageError(`${path}: holds more than ${WAIVERS_TEXT_LIMIT} bytes`);
  try {
    return parseWaiversText(path, text, now);
  } catch (error) {
    if (error instanceof WaiversError) throw new CliUsageError(error.message);
    throw error;
  }
}
