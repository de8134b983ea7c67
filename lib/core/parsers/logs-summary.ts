import type { Evidence } from '../result.ts';

/** The LOGS-01 patterns the script counts on the VM (docs/diagnostic-output.md, section `logs`). */
export const LOG_PATTERNS = [
  'warm-cert',
  'not-ready',
  'no-workload-group',
  'token',
  'x509',
  'istiod-dial',
  'dns-not-ready',
  'stream-closed',
] as const;
export type LogPattern = (typeof LOG_PATTERNS)[number];

export interface LogSource {
  name: string;
  state: 'ok' | 'missing' | 'error';
  lines: number;
}

export interface LogsSummary {
  sources: LogSource[];
  counts: Map<LogPattern, number>;
  /** The latest matching line of each pattern that matched. */
  latest: Map<LogPattern, string>;
}

const isPattern = (id: string): id is LogPattern => (LOG_PATTERNS as readonly string[]).includes(id);

/**
 * Parses the `logs` section: `source <name> <ok|missing|error> <lines>`, `count <pattern> <n>` for
 * every pattern, `last <pattern> <line>` (docs/diagnostic-output.md). A pattern without a count
 * line makes the section unavailable: zero must be said, not assumed. Never throws.
 */
export function parseLogsSummary(text: string): Evidence<LogsSummary> {
  const summary: LogsSummary = { sources: [], counts: new Map(), latest: new Map() };
  for (const line of text.split('\n')) {
    const source = /^source (?<name>\S+) (?<state>ok|missing|error) (?<lines>\d{1,9})$/.exec(line);
    if (source?.groups) {
      summary.sources.push({
        name: source.groups.name!,
        state: source.groups.state as LogSource['state'],
        lines: Number(source.groups.lines),
      });
      continue;
    }
    const count = /^count (?<id>[a-z0-9-]+) (?<n>\d{1,12})$/.exec(line);
    if (count?.groups && isPattern(count.groups.id!)) {
      summary.counts.set(count.groups.id, Number(count.groups.n));
      continue;
    }
    const last = /^last (?<id>[a-z0-9-]+) (?<line>.*)$/.exec(line);
    if (last?.groups && isPattern(last.groups.id!)) summary.latest.set(last.groups.id, last.groups.line!);
  }
  const unsaid = LOG_PATTERNS.filter((p) => !summary.counts.has(p));
  if (unsaid.length > 0) return { ok: false, reason: `the logs section has no count for ${unsaid.join(', ')}` };
  return { ok: true, value: summary };
}
