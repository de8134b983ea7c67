/**
 * Strict checks of what the renderers produce, for tests that feed them hostile text. No HTML parser is a
 * dependency of the project, so the HTML check is a small tokenizer of the one dialect report.html is
 * written in: known tags with known attributes, quoted values, entities only where escapeHtml puts them.
 * Anything a VM could have smuggled in (a tag, an attribute, a raw `<` or `>`, a control character the HTML
 * standard calls a parse error) shows up as a problem, with its offset.
 */

// The elements and attributes html-report.ts writes (its script builds elements later, never from markup);
// anything else came from the data.
const ALLOWED_TAGS: Record<string, readonly string[]> = {
  html: ['lang'],
  head: [],
  meta: ['charset', 'name', 'http-equiv', 'content'],
  title: [],
  style: [],
  script: ['type', 'id'],
  noscript: [],
  body: [],
  header: [],
  main: [],
  section: ['aria-labelledby'],
  h1: [],
  h2: ['id'],
  h3: ['id'],
  p: ['class', 'id', 'role', 'aria-live'],
  a: ['href'],
  code: [],
  div: ['id', 'hidden'],
  ul: ['class'],
  ol: ['class'],
  li: [],
  b: [],
  form: ['id', 'role', 'aria-label'],
  label: [],
  input: ['type', 'name', 'placeholder', 'autocomplete'],
  select: ['name'],
  option: ['value'],
  button: ['type', 'id', 'hidden'],
  table: ['id'],
  caption: [],
  thead: [],
  tbody: [],
  tr: [],
  th: ['scope', 'id', 'class', 'data-sort'],
  td: ['class'],
  span: ['class'],
  small: [],
  details: ['class', 'id'],
  summary: [],
  pre: [],
};
const VOID_TAGS = new Set(['meta', 'input']);
const TAG = /<(?<close>\/?)(?<name>[a-z][a-z0-9]*)(?<attributes>(?:\s+[a-z-]+(?:="[^"<>]*")?)*)\s*>/y;
const ATTRIBUTE = /\s+(?<name>[a-z-]+)(?:="[^"<>]*")?/g;
const ENTITY = /&(?:amp|lt|gt|quot|#39);/y;
// HTML's parse errors for characters in the input stream: controls other than whitespace, and noncharacters.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARACTER = /[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f\ufdd0-\ufdef\ufffe\uffff]/;

/** What is wrong with `html` as report.html's dialect; none for a well-formed page. */
export function htmlProblems(html: string): string[] {
  const problems: string[] = [];
  const open: string[] = [];
  const doctype = '<!doctype html>';
  if (!html.startsWith(doctype)) problems.push('it does not start with <!doctype html>');
  let i = html.startsWith(doctype) ? doctype.length : 0;
  while (i < html.length && problems.length < 20) {
    const c = html[i]!;
    if (c === '<') {
      TAG.lastIndex = i;
      const tag = TAG.exec(html);
      if (!tag?.groups) {
        problems.push(`a "<" that starts no tag of the report at offset ${i}: ${JSON.stringify(html.slice(i, i + 40))}`);
        i++;
        continue;
      }
      const name = tag.groups.name!;
      const allowed = ALLOWED_TAGS[name];
      if (!allowed) problems.push(`a <${name}> tag at offset ${i}`);
      for (const attribute of tag.groups.attributes!.matchAll(ATTRIBUTE)) {
        if (!allowed?.includes(attribute.groups!.name!))
          problems.push(`a ${attribute.groups!.name!} attribute on <${name}> at offset ${i}`);
      }
      i = TAG.lastIndex;
      if (tag.groups.close) {
        const top = open.pop();
        if (top !== name) problems.push(`</${name}> closes <${top ?? 'nothing'}> at offset ${i}`);
      } else if (name === 'style' || name === 'script') {
        // Raw text up to its end tag. The stylesheet and the script are the renderer's own, never data; the
        // data block (a script of type application/json) must hold no "<" at all, so that nothing in it can
        // end it or open a comment.
        const end = html.indexOf(`</${name}>`, i);
        const data = /\stype="application\/json"/.test(tag.groups.attributes!);
        if (end < 0) problems.push(`<${name}> is never closed`);
        else if ((name === 'style' || data) && html.slice(i, end).includes('<'))
          problems.push(`the ${data ? 'data block' : 'stylesheet'} holds a "<"`);
        i = end < 0 ? html.length : end + `</${name}>`.length;
      } else if (!VOID_TAGS.has(name)) {
        open.push(name);
      }
      continue;
    }
    if (c === '>') problems.push(`a ">" outside a tag at offset ${i}`);
    if (c === '&') {
      ENTITY.lastIndex = i;
      if (!ENTITY.exec(html)) problems.push(`an "&" that starts no entity escapeHtml writes, at offset ${i}`);
    }
    if (FORBIDDEN_CHARACTER.test(c)) problems.push(`the character U+${c.charCodeAt(0).toString(16).padStart(4, '0')} at offset ${i}`);
    i++;
  }
  // Past 20 problems the scan stops early: what is open then says nothing.
  if (open.length > 0 && i >= html.length) problems.push(`unclosed: ${open.join(' ')}`);
  return problems;
}

/** Characters that would drive a terminal or forge a line in terminal text; only newlines may separate lines. */
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** The offsets of characters a terminal would act on, in text meant to be printed. */
export function terminalProblems(text: string): string[] {
  const problems: string[] = [];
  for (let i = 0; i < text.length && problems.length < 20; i++) {
    if (TERMINAL_CONTROL.test(text[i]!)) problems.push(`U+${text.charCodeAt(i).toString(16).padStart(4, '0')} at offset ${i}`);
  }
  return problems;
}

/** Splits RFC 4180 CSV into rows of cells; undefined when it is not well-formed CSV. */
export function parseCsv(text: string): string[][] | undefined {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return undefined;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') return undefined;
        cell += text[i++];
      }
    }
    row.push(cell);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) i += 2;
    else if (i < text.length) return undefined;
    rows.push(row);
    row = [];
  }
  return rows;
}

/** Cells a spreadsheet would run as a formula (OWASP's CSV injection list: = + - @ tab CR), numbers aside. */
export function formulaCells(rows: string[][]): string[] {
  return rows.flat().filter((cell) => /^[=+\-@\t\r]/.test(cell) && !/^-?\d+(\.\d+)?(e-?\d+)?$/.test(cell));
}
