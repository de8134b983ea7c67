/**
 * The diagnostic script's output format, version 1 (docs/design.md).
 *
 * ```
 * FLEET-AUDIT-DIAGNOSTICS v1 boundary=@@fa-<16 hex>
 * @@fa-<hex> BEGIN <section>
 * <whatever the command printed, byte for byte>
 * @@fa-<hex> END <section> rc=<exit status> cut=<0|1> missing=<tool,tool | ->
 * ...
 * @@fa-<hex> DONE sections=<count>
 * ```
 *
 * The boundary is drawn at random on the VM when the script starts, before any content is read, so a
 * log line or a file can never contain it by accident; splitting is unambiguous whatever a section holds.
 * A section's content is everything between its BEGIN line and the newline that precedes its END line.
 * `cut=1` says the script bounded the section's size; `missing` names tools that were not installed.
 * A missing DONE line means the output was cut on the way (the SSM agent appends `--output truncated--`
 * to an API copy cut at 24,000 bytes).
 */
export const DIAGNOSTIC_FORMAT_VERSION = 1;

export interface SectionMeta {
  /** Exit status of the section's command; undefined when the END line never came. */
  rc: number | undefined;
  /** The script bounded this section's size, or the output ended inside it. */
  cut: boolean;
  /** Tools the section needed that the VM does not have. */
  missing: string[];
}

export interface Section extends SectionMeta {
  name: string;
  content: string;
}

export interface SplitOutput {
  version: number | undefined;
  sections: Map<string, Section>;
  /** The output ended before the DONE line (cut by SSM or by the VM). */
  truncated: boolean;
  /**
   * What could not be understood, in order of appearance; an empty list for well-formed output. At most
   * MAX_LISTED_PROBLEMS are listed, the last one then counting the others.
   */
  problems: string[];
}

/** The most sections an output may hold; the script prints about 25. Further sections are counted, not kept. */
export const MAX_SECTIONS = 128;
/** The most problems listed one by one; a hostile output can have millions, which are then counted. */
export const MAX_LISTED_PROBLEMS = 10;

const HEADER = /^FLEET-AUDIT-DIAGNOSTICS v(?<version>\d+) boundary=(?<boundary>@@[A-Za-z0-9_-]{8,64})$/m;
// The SSM agent's marker on an API copy of stdout cut at 24,000 bytes.
const SSM_TRUNCATION = /^-{1,16} ?output truncated ?-{1,16}\r?$/im;
const SSM_TRUNCATION_LINE = /^-{1,16} ?output truncated ?-{1,16}\r?$/i;
const SECTION_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Splits diagnostic output into its sections; never throws, reports what it could not read. */
export function splitDiagnosticOutput(text: string): SplitOutput {
  const sections = new Map<string, Section>();
  const problems: string[] = [];
  let unlisted = 0;
  let ignoredSections = 0;
  const problem = (text: string): void => {
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push(text);
    else unlisted++;
  };
  const header = HEADER.exec(text.slice(0, 4096));
  if (!header?.groups) {
    return {
      version: undefined,
      sections,
      truncated: true,
      problems: ['no diagnostic header: the output is not from the fleet-audit script'],
    };
  }
  const version = Number(header.groups.version);
  if (version !== DIAGNOSTIC_FORMAT_VERSION) {
    return {
      version,
      sections,
      truncated: false,
      problems: [`diagnostic format v${version} is not supported (expected v${DIAGNOSTIC_FORMAT_VERSION})`],
    };
  }
  const boundary = header.groups.boundary!;
  const marker = `\n${boundary} `;
  let cursor = header.index + header[0].length;
  let done = false;
  let open: { name: string; start: number } | undefined;
  let pendingBadLine: string | undefined;

  while (cursor < text.length) {
    const at = text.indexOf(marker, cursor - 1);
    if (at < 0) break;
    const lineStart = at + marker.length;
    const lineEnd = text.indexOf('\n', lineStart);
    const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
    const next = lineEnd < 0 ? text.length : lineEnd + 1;
    if (pendingBadLine !== undefined) problem(pendingBadLine);
    pendingBadLine = undefined;
    const begin = /^BEGIN (?<name>\S+)$/.exec(line);
    const end = /^END (?<name>\S+) rc=(?<rc>-?\d+) cut=(?<cut>[01]) missing=(?<missing>\S*)$/.exec(line);
    if (begin?.groups) {
      if (open) {
        problem(`section ${open.name} has no END line`);
        closeCut(open, at);
      }
      const name = begin.groups.name!;
      const full = sections.size >= MAX_SECTIONS;
      if (!SECTION_NAME.test(name)) problem(`bad section name ${JSON.stringify(name.slice(0, 64))}`);
      else if (sections.has(name)) problem(`section ${name} appears twice; the first is kept`);
      else if (full) ignoredSections++;
      open = SECTION_NAME.test(name) && !sections.has(name) && !full ? { name, start: next } : undefined;
    } else if (end?.groups && open && end.groups.name === open.name) {
      const missing = end.groups.missing === '-' || end.groups.missing === '' ? [] : end.groups.missing!.split(',');
      sections.set(open.name, {
        name: open.name,
        content: text.slice(open.start, Math.max(open.start, at)),
        rc: Number(end.groups.rc),
        cut: end.groups.cut === '1',
        missing,
      });
      open = undefined;
    } else if (/^DONE sections=\d+$/.test(line)) {
      done = true;
      break;
    } else if (!end) {
      // Said when the next marker comes: the last marker of an output cut on the way is the cut, which
      // `truncated` says, not a problem of its own.
      pendingBadLine = `unrecognised marker line ${JSON.stringify(line.slice(0, 80))}`;
      cursor = next;
      continue;
    }
    cursor = next;
  }
  if (open) closeCut(open, text.length);
  const truncated = !done || SSM_TRUNCATION.test(text.slice(-200));
  if (ignoredSections > 0) problem(`${ignoredSections} sections beyond the first ${MAX_SECTIONS} were ignored`);
  if (!done) problem('the output ends before its DONE line: it was cut');
  if (unlisted > 0) problems.push(`… and ${unlisted} more problems`);
  return { version, sections, truncated, problems };

  function closeCut(section: { name: string; start: number }, endAt: number): void {
    let content = text.slice(section.start, Math.max(section.start, endAt));
    // Only the last line can be SSM's marker; a regex over the whole content would let a VM make it slow.
    const lastBreak = content.lastIndexOf('\n');
    if (SSM_TRUNCATION_LINE.test(content.slice(lastBreak + 1, lastBreak + 1 + 80))) content = content.slice(0, Math.max(0, lastBreak));
    sections.set(section.name, { name: section.name, content, rc: undefined, cut: true, missing: [] });
  }
}

/** Formats sections in the v1 format; the simulator and tests use it to speak as the script does. */
export function formatDiagnosticOutput(
  boundary: string,
  sections: ReadonlyArray<{ name: string; content: string; rc?: number; cut?: boolean; missing?: string[] }>,
): string {
  const parts = [`FLEET-AUDIT-DIAGNOSTICS v${DIAGNOSTIC_FORMAT_VERSION} boundary=${boundary}\n`];
  for (const s of sections) {
    const missing = s.missing && s.missing.length > 0 ? s.missing.join(',') : '-';
    parts.push(
      `${boundary} BEGIN ${s.name}\n${s.content}\n${boundary} END ${s.name} rc=${s.rc ?? 0} cut=${s.cut ? 1 : 0} missing=${missing}\n`,
    );
  }
  parts.push(`${boundary} DONE sections=${sections.length}\n`);
  return parts.join('');
}
