import { readFile } from 'node:fs/promises';
import { CORE_SCHEMA, load } from 'js-yaml';
import { parseWaivers, WaiversError, type Waiver } from '../lib/core/waivers.ts';
import { CliUsageError } from './context.ts';

/** The most a waivers file may hold: thousands of waivers fit in far less. */
const WAIVERS_FILE_LIMIT = 4 * 1024 * 1024;

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
  if (text.length > WAIVERS_FILE_LIMIT) throw new CliUsageError(`${path}: holds more than ${WAIVERS_FILE_LIMIT} bytes`);
  return parseWaiversText(path, text, now);
}

/** Parses a waivers document's text: JSON when it looks like JSON, YAML otherwise (the core schema: no custom types, times stay text). */
export function parseWaiversText(name: string, text: string, now: Date): Waiver[] {
  let raw: unknown;
  try {
    raw = /^\s*[{[]/.test(text) ? JSON.parse(text) : load(text, { schema: CORE_SCHEMA });
  } catch (cause) {
    const what = cause instanceof SyntaxError ? 'is not valid JSON' : 'is not valid YAML';
    throw new CliUsageError(`${name}: ${what} (${firstLine((cause as Error).message)})`);
  }
  try {
    return parseWaivers(raw, now);
  } catch (error) {
    if (error instanceof WaiversError) throw new CliUsageError(`${name}: ${error.message}`);
    throw error;
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.slice(0, 200);
}
