import type { Report } from './report.ts';

/**
 * report.json as stored: the head (run, summary) indented for people, then one VM, one finding and one
 * waiver per line. Indenting every finding would triple the file at fleet scale; one line per item keeps
 * it readable with `grep` and `jq` alike. The text is plain JSON: any parser reads it. Characters beyond
 * ASCII are written as `\u` escapes: one `…` in a string makes V8 hold the whole text at two bytes a
 * character, which at 10,000 VMs doubles the largest string the analysis holds.
 */
export function reportJsonText(report: Report): string {
  const { vms, findings, waivers, ...head } = report;
  const headText = asciiJson(JSON.stringify(head, null, 2));
  const list = (items: readonly unknown[]): string => (items.length === 0 ? '[]' : `[\n${items.map((item) => `    ${asciiJson(JSON.stringify(item))}`).join(',\n')}\n  ]`);
  return `${headText.slice(0, headText.lastIndexOf('\n}'))},\n  "vms": ${list(vms)},\n  "findings": ${list(findings)},\n  "waivers": ${list(waivers)}\n}\n`;
}

function asciiJson(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
