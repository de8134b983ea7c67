/**
 * CSV as RFC 4180 writes it (https://www.rfc-editor.org/rfc/rfc4180): CRLF after every record, a field
 * with a comma, quote, CR or LF quoted, quotes inside doubled. Cells a spreadsheet would evaluate are
 * neutralised first (OWASP, "CSV Injection"), since VMs and the cluster write much of what lands here.
 */
export function csvText(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** One RFC 4180 cell; text a spreadsheet would evaluate (= + - @, tab, CR) is prefixed with a quote. */
export function csvCell(value: string): string {
  // A plain number keeps its sign: "-0.5" is data, not a formula.
  const neutral = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?(e-?\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(neutral) ? `"${neutral.replaceAll('"', '""')}"` : neutral;
}
