import { CORE_SCHEMA, load } from 'js-yaml';
import { parseWaivers, WaiversError, type Waiver } from './waivers.ts';

/** The most a waivers document may hold: thousands of waivers fit in far less. */
export const WAIVERS_TEXT_LIMIT = 4 * 1024 * 1024;

/**
 * A waivers document's text, JSON when it looks like JSON and YAML otherwise (the core schema: no custom
 * types, times stay text), validated entry by entry. `name` says where it came from in every message;
 * `now` is when it is read (no waiver may expire more than a year later). Throws WaiversError.
 */
export function parseWaiversText(name: string, text: string, now: Date): Waiver[] {
  if (text.length > WAIVERS_TEXT_LIMIT) throw new WaiversError(`${name}: holds more than ${WAIVERS_TEXT_LIMIT} bytes`);
  let raw: unknown;
  try {
    raw = /^\s*[{[]/.test(text) ? JSON.parse(text) : load(text, { schema: CORE_SCHEMA });
  } catch (cause) {
    const what = cause instanceof SyntaxError ? 'is not valid JSON' : 'is not valid YAML';
    throw new WaiversError(`${name}: ${what} (${firstLine((cause as Error).message)})`);
  }
  try {
    return parseWaivers(raw, now);
  } catch (error) {
    if (error instanceof WaiversError) throw new WaiversError(`${name}: ${error.message}`);
    throw error;
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.slice(0, 200);
}
