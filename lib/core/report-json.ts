import type { Report } from './report.ts';

/**
 * report.json as stored: the head (run, summary) indented for people, then one VM, one finding and one
 * waiver per line. Indenting every finding would triple the file at fleet scale; one line per item keeps
 * it readable with `grep` and `jq` alike. The text is plain JSON: any parser reads it.
 */
export function reportJsonText(report: Report): string {
  const { vms, findings, waivers, ...head } = report;
  const headText = JSON.stringify(head, null, 2);
  const list = (items: readonly unknown[]): string => (items.length === 0 ? '[]' : `[\n${items.map((item) => `    ${JSON.stringify(item)}`).join(',\n')}\n  ]`);
  return `${headText.slice(0, headText.lastIndexOf('\n}'))},\n  "vms": ${list(vms)},\n  "findings": ${list(findings)},\n  "waivers": ${list(waivers)}\n}\n`;
}
