import type { Evidence } from '../result.ts';

/**
 * Envoy's `/stats` text format (Envoy admin docs, "GET /stats"): one `name: value` line per stat,
 * counters and gauges as integers, histograms as summaries we ignore. Never throws.
 */
export function parseEnvoyStats(text: string): Evidence<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(?<name>[A-Za-z0-9_.:-]+): (?<value>-?\d{1,19})$/.exec(line.replace(/\r$/, ''));
    if (match?.groups) stats.set(match.groups.name!, Number(match.groups.value));
  }
  if (stats.size === 0) return { ok: false, reason: 'Envoy /stats printed no stat' };
  return { ok: true, value: stats };
}
