import type { Finding, Report, StoredReport } from './report.ts';

type StoredFinding = StoredReport['findings'][number];

/**
 * report.json as stored: the head (run, summary) indented for people, then one VM, one finding and one
 * waiver per line. Indenting every finding would triple the file at fleet scale; one line per item keeps
 * it readable with `grep` and `jq` alike. The text is plain JSON: any parser reads it. Characters beyond
 * ASCII are written as `\u` escapes: one `…` in a string makes V8 hold the whole text at two bytes a
 * character, which at 10,000 VMs doubles the largest string the analysis holds.
 *
 * Nearly every finding of a fleet is a PASS that says what it says on every other VM: such a PASS is
 * stored as a list naming its control, subject, message and evidence excerpt (each text and excerpt kept
 * once, in `texts` and `excerpts`), and a remediation is kept once per control (`remediations`). ReportSchema reads the file back into the same Report.
 */
export function reportJsonText(report: Report): string {
  return [...reportJsonChunks(report)].join('');
}

/** report.json (see reportJsonText) a line at a time, so that a writer never holds the whole text. */
export function* reportJsonChunks(report: Report): Generator<string> {
  const { vms, findings, waivers, ...head } = report;
  const headText = asciiJson(JSON.stringify(head, null, 2));
  const remediations = remediationsOf(findings);
  const texts = new Map<string, number>();
  const excerpts = new Map<string, number>();
  yield `${headText.slice(0, headText.lastIndexOf('\n}'))},\n`;
  yield* listChunks('vms', vms, ',');
  // Each finding is encoded as its line is written: the stored form of the whole list is never held.
  yield* listChunks('findings', findings, ',', (f) => JSON.stringify(storedFinding(f, report, remediations, { texts, excerpts })));
  yield* listChunks('waivers', waivers, ',');
  yield* listChunks(
    'remediations',
    [...remediations],
    ',',
    ([control, text]) => `${JSON.stringify(control)}: ${JSON.stringify(text)}`,
    '{}',
  );
  // Last, once every finding has named its message.
  yield* listChunks('texts', [...texts.keys()], ',');
  // The excerpts are written as they were keyed: their JSON.
  yield* listChunks('excerpts', [...excerpts.keys()], '', (json) => json);
  yield '}\n';
}

/** Each control's remediation: the one its findings that have one share (the catalogue's). */
function remediationsOf(findings: readonly Finding[]): Map<string, string> {
  const remediations = new Map<string, string>();
  for (const f of findings) if (f.remediation !== '' && !remediations.has(f.control)) remediations.set(f.control, f.remediation);
  return remediations;
}

/** What the PASS findings stored as lists name, each once, by its index. */
interface StoredTables {
  texts: Map<string, number>;
  /** By the excerpt's JSON. */
  excerpts: Map<string, number>;
}

function storedFinding(f: Finding, report: Report, remediations: Map<string, string>, tables: StoredTables): StoredFinding {
  if (f.status === 'PASS' && f.remediation === '' && report.summary.byControl[f.control]?.severity === f.severity) {
    const text = indexIn(tables.texts, f.message);
    return Object.keys(f.evidence).length === 0
      ? [f.control, f.subject.kind, f.subject.id, text]
      : [f.control, f.subject.kind, f.subject.id, text, indexIn(tables.excerpts, JSON.stringify(f.evidence))];
  }
  const { remediation, ...rest } = f;
  return remediation === (remediations.get(f.control) ?? '') ? rest : f;
}

function indexIn(table: Map<string, number>, key: string): number {
  let index = table.get(key);
  if (index === undefined) table.set(key, (index = table.size));
  return index;
}

function* listChunks<T>(
  name: string,
  items: readonly T[],
  after: string,
  line: (item: T) => string = (item) => JSON.stringify(item),
  brackets = '[]',
): Generator<string> {
  const [open, close] = brackets;
  if (items.length === 0) {
    yield `  "${name}": ${open}${close}${after}\n`;
    return;
  }
  yield `  "${name}": ${open}\n`;
  for (let i = 0; i < items.length; i++) yield `    ${asciiJson(line(items[i]!))}${i === items.length - 1 ? '' : ','}\n`;
  yield `  ${close}${after}\n`;
}

function asciiJson(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
