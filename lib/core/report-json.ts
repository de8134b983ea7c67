import type { Report } from './report.ts';

/**
 * report.json as stored: the head (run, summary) indented for people, then one VM, one finding and one
 * waiver per line. Indenting every finding would triple the file at fleet scale; one line per item keeps
 * it readable with `grep` and `jq` alike. The text is plain JSON: any parser reads it. Characters beyond
 * ASCII are written as `\u` escapes: one `…` in a string makes V8 hold the whole text at two bytes a
 * character, which at 10,000 VMs doubles the largest string the analysis holds.
 */
export function reportJsonText(report: Report): string {
  return [...reportJsonChunks(report)].join('');
}

/** report.json (see reportJsonText) a line at a time, so that a writer never holds the whole text. */
export function* reportJsonChunks(report: Report): Generator<string> {
  const { vms, findings, waivers, ...head } = report;
  const headText = asciiJson(JSON.stringify(head, null, 2));
  yield `${headText.slice(0, headText.lastIndexOf('\n}'))},\n`;
  yield* listChunks('vms', vms, ',');
  yield* listChunks('findings', findings, ',');
  yield* listChunks('waivers', waivers, '');
  yield '}\n';
}

function* listChunks(name: string, items: readonly unknown[], after: string): Generator<string> {
  if (items.length === 0) {
    yield `  "${name}": []${after}\n`;
    return;
  }
  yield `  "${name}": [\n`;
  for (let i = 0; i < items.length; i++) yield `    ${asciiJson(JSON.stringify(items[i]))}${i === items.length - 1 ? '' : ','}\n`;
  yield `  ]${after}\n`;
}

function asciiJson(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
