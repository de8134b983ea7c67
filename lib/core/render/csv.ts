/**
 * CSV as RFC 4180 writes it (https://www.rfc-editor.org/rfc/rfc4180): CRLF after every record, a field
 * with a comma, quote, CR or LF quoted, quotes inside doubled. Cells a spreadsheet would evaluate are
 * neutralised first (OWASP, "CSV Injection"), since VMs and the cluster write much of what lands here.
 */
export function csvText(rows: Iterable<readonly string[]>): string {
  return [...csvRecords(rows)].join('');
}

/** The records of csvText one at a time, each with its CRLF. */
export function* csvRecords(rows: Iterable<readonly string[]>): Generator<string> {
  for (const row of rows) yield `${row.map(csvCell).join(',')}\r\n`;
}

/** One RFC 4180 cell; text a spreadsheet would evaluate (= + - @, tab, CR) is prefixed with a quote. */
export function csvCell(value: string): string {
  // A plain number keeps its sign: "-0.5" is data, not a formula.
  const neutral = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?(e-?\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(neutral) ? `"${neutral.replaceAll('"', '""')}"` : neutral;
}
