/**
 * A strict RFC 4180 reader (https://www.rfc-editor.org/rfc/rfc4180#section-2), to read back what the
 * renderers write: records end with CRLF, a quoted field may hold commas, CR, LF and doubled quotes, and
 * anything else (a bare quote inside a field, text after a closing quote, a missing final CRLF) throws.
 */
export function parseRfc4180(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  if (!text.endsWith('\r\n')) throw new Error('the last record does not end with CRLF');
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) throw new Error(`unterminated quoted field at ${i}`);
        field += text.slice(i, quote);
        i = quote + 1;
        if (text[i] !== '"') break;
        field += '"';
        i++;
      }
    } else {
      const end = text.slice(i).search(/[,\r\n"]/);
      if (end < 0) throw new Error(`field at ${i} runs to the end`);
      field = text.slice(i, i + end);
      i += end;
      if (text[i] === '"') throw new Error(`bare quote in an unquoted field at ${i}`);
    }
    record.push(field);
    if (text[i] === ',') {
      i++;
    } else if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
    } else {
      throw new Error(`expected a comma or CRLF at ${i}, found ${JSON.stringify(text[i])}`);
    }
  }
  return records;
}
