import type { ProtoJsonNode } from './proto-json-tree.ts';

/**
 * istioctl's `-o yaml`: the JSON it would print, converted by sigs.k8s.io/yaml `JSONToYAML`, which decodes
 * it into plain maps and encodes them with its go-yaml v2 fork, then a newline (`fmt.Fprintln`), which
 * leaves an empty last line. So the
 * layout is go-yaml v2's (sigs.k8s.io/yaml goyaml.v2 encode.go, emitterc.go, sorter.go, resolve.go):
 * - every mapping's keys in go-yaml's order (letters before other runes, digit runs compared as numbers);
 * - two-space indentation, a sequence inside a mapping not indented, empty collections as `{}` and `[]`;
 * - a string that YAML 1.1 would read as another type (`"80"`, `"true"`, `"on"`, a timestamp) double
 *   quoted; one that cannot be plain single quoted; one with a line break as a literal block;
 * - plain and quoted strings folded at a space once the line passes 80 columns.
 */
export function renderGoYaml(root: ProtoJsonNode): string {
  const out: string[] = [];
  const emitter = { out, column: 0 };
  writeNode(emitter, root, 0, 'top');
  return `${out.join('')}\n\n`;
}

interface Emitter {
  out: string[];
  column: number;
}

type Context = 'top' | 'mapping-value' | 'sequence-item';

const BEST_WIDTH = 80;

function writeNode(e: Emitter, node: ProtoJsonNode, indent: number, context: Context): void {
  if (node.kind === 'scalar') {
    if (context !== 'top') write(e, ' ');
    writeScalar(e, node.value, indent, false);
    return;
  }
  const empty = node.kind === 'array' ? node.items.length === 0 : node.entries.length === 0;
  if (empty) {
    write(e, `${context === 'top' ? '' : ' '}${node.kind === 'array' ? '[]' : '{}'}`);
    return;
  }
  if (node.kind === 'array') {
    node.items.forEach((item, i) => {
      startItem(e, i, indent, context);
      write(e, '-');
      writeNode(e, item, indent + 2, 'sequence-item');
    });
    return;
  }
  const entries = [...node.entries].sort(([a], [b]) => (goYamlKeyLess(a, b) ? -1 : goYamlKeyLess(b, a) ? 1 : 0));
  entries.forEach(([key, value], i) => {
    startItem(e, i, indent, context);
    writeScalar(e, key, indent + 2, true);
    write(e, ':');
    writeNode(e, value, value.kind === 'array' ? indent : indent + 2, 'mapping-value');
  });
}

// A block collection's first item stays on the line of the dash it is an item of; one that is a mapping's
// value starts on a line of its own (a sequence on the key's column: go-yaml does not indent it).
function startItem(e: Emitter, i: number, indent: number, context: Context): void {
  if (i > 0 || context === 'mapping-value') newline(e, indent);
  else if (context === 'sequence-item') write(e, ' ');
}

function write(e: Emitter, text: string): void {
  e.out.push(text);
  const lastBreak = text.lastIndexOf('\n');
  e.column = lastBreak < 0 ? e.column + [...text].length : [...text.slice(lastBreak + 1)].length;
}

function newline(e: Emitter, indent: number): void {
  write(e, `\n${' '.repeat(indent)}`);
}

type Style = 'plain' | 'single' | 'double' | 'literal';

// `indent` is the scalar's own indentation: where folded and literal lines continue.
function writeScalar(e: Emitter, value: string | number | boolean | null, indent: number, isKey: boolean): void {
  if (value === null) return write(e, 'null');
  if (typeof value === 'boolean') return write(e, String(value));
  if (typeof value === 'number') return write(e, goYamlNumber(value));
  const style = scalarStyle(value, isKey);
  if (style === 'plain') return writeFolded(e, value, indent, !isKey, false);
  if (style === 'single') {
    write(e, "'");
    writeFolded(e, value.replaceAll("'", "''"), indent, !isKey, true);
    return write(e, "'");
  }
  if (style === 'literal') return writeLiteral(e, value, indent);
  write(e, '"');
  writeFolded(e, doubleQuotedBody(value), indent, !isKey, true);
  write(e, '"');
}

// go-yaml breaks a plain or quoted scalar at a single space once the column passes the best width.
function writeFolded(e: Emitter, text: string, indent: number, allowBreaks: boolean, quoted: boolean): void {
  const chars = [...text];
  let run = '';
  let previousSpace = false;
  chars.forEach((c, i) => {
    const next = chars[i + 1];
    const inside = !quoted || (i > 0 && i < chars.length - 1);
    if (c === ' ' && allowBreaks && !previousSpace && inside && next !== ' ' && e.column + [...run].length > BEST_WIDTH) {
      write(e, run);
      run = '';
      newline(e, indent);
    } else run += c;
    previousSpace = c === ' ';
  });
  write(e, run);
}

function writeLiteral(e: Emitter, value: string, indent: number): void {
  const indentHint = value.startsWith(' ') || value.startsWith('\n') ? '2' : '';
  const chomp = !value.endsWith('\n') ? '-' : value === '\n' || value.endsWith('\n\n') ? '+' : '';
  write(e, `|${indentHint}${chomp}`);
  const body = value.endsWith('\n') ? value.slice(0, -1) : value;
  for (const line of body.split('\n')) {
    if (line === '') write(e, '\n');
    else {
      newline(e, indent);
      write(e, line);
    }
  }
}

function scalarStyle(value: string, isKey: boolean): Style {
  // encode.go stringv: a string YAML would resolve to another type is double quoted, a multi-line one literal.
  if (resolvesToOtherType(value)) return 'double';
  const analysis = analyzeScalar(value);
  if (value.includes('\n')) return isKey || !analysis.blockAllowed ? 'double' : 'literal';
  if (analysis.blockPlainAllowed) return 'plain';
  return analysis.singleQuotedAllowed ? 'single' : 'double';
}

const FLOW_AND_BLOCK_FIRST = new Set(['#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

// emitterc.go yaml_emitter_analyze_scalar, for block context.
function analyzeScalar(value: string): { blockPlainAllowed: boolean; singleQuotedAllowed: boolean; blockAllowed: boolean } {
  const chars = [...value];
  let blockIndicators = value.startsWith('---') || value.startsWith('...');
  let special = false;
  let [leadingSpace, leadingBreak, trailingSpace, trailingBreak] = [false, false, false, false];
  let [breakSpace, spaceBreak, lineBreaks, previousSpace, previousBreak] = [false, false, false, false, false];
  let precededByWhitespace = true;
  chars.forEach((c, i) => {
    const next = chars[i + 1];
    const followedByWhitespace = next === undefined || next === ' ' || next === '\t';
    if (i === 0) {
      if (FLOW_AND_BLOCK_FIRST.has(c)) blockIndicators = true;
      else if ((c === '?' || c === ':' || c === '-') && followedByWhitespace) blockIndicators = true;
    } else if ((c === ':' && followedByWhitespace) || (c === '#' && precededByWhitespace)) blockIndicators = true;
    if (!isPrintable(c)) special = true;
    const isLast = i === chars.length - 1;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (isLast) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      [previousSpace, previousBreak] = [true, false];
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (isLast) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      [previousSpace, previousBreak] = [false, true];
    } else [previousSpace, previousBreak] = [false, false];
    precededByWhitespace = c === ' ' || c === '\t' || isBreak(c);
  });
  let blockPlainAllowed = !(leadingSpace || leadingBreak || trailingSpace || trailingBreak);
  let singleQuotedAllowed = true;
  let blockAllowed = !trailingSpace;
  if (breakSpace) [blockPlainAllowed, singleQuotedAllowed] = [false, false];
  if (spaceBreak || special) [blockPlainAllowed, singleQuotedAllowed, blockAllowed] = [false, false, false];
  if (lineBreaks || blockIndicators) blockPlainAllowed = false;
  return { blockPlainAllowed, singleQuotedAllowed, blockAllowed };
}

const isBreak = (c: string): boolean => c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';

// emitterc.go is_printable: go-yaml v2 checks up to three UTF-8 bytes, so a rune beyond U+FFFF is escaped.
function isPrintable(c: string): boolean {
  const code = c.codePointAt(0) ?? 0;
  if (code === 0x0a || (code >= 0x20 && code <= 0x7e)) return true;
  if (code >= 0xa0 && code <= 0xd7ff) return true;
  return code >= 0xe000 && code <= 0xfffd && code !== 0xfeff;
}

function doubleQuotedBody(value: string): string {
  const named: Record<string, string> = {
    '\0': '\\0',
    '\x07': '\\a',
    '\b': '\\b',
    '\t': '\\t',
    '\n': '\\n',
    '\v': '\\v',
    '\f': '\\f',
    '\r': '\\r',
    '\x1b': '\\e',
    '"': '\\"',
    '\\': '\\\\',
    '\u0085': '\\N',
    '\u00a0': '\\_',
    '\u2028': '\\L',
    '\u2029': '\\P',
  };
  return [...value]
    .map((c) => {
      if (named[c] !== undefined) return named[c];
      if (isPrintable(c) && c !== '\ufeff') return c;
      const code = c.codePointAt(0) ?? 0;
      const hex = code.toString(16).toUpperCase();
      return code <= 0xff ? `\\x${hex.padStart(2, '0')}` : code <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\U${hex.padStart(8, '0')}`;
    })
    .join('');
}

// resolve.go: what a plain scalar would mean in go-yaml v2 (YAML 1.1 booleans included).
const RESOLVED_WORDS = new Set(
  [
    'y Y yes Yes YES true True TRUE on On ON n N no No NO false False FALSE off Off OFF',
    '~ null Null NULL .nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF <<',
  ]
    .join(' ')
    .split(' '),
);
const INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const TIMESTAMP =
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2}))|(?: [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?))?$/;

export function resolvesToOtherType(value: string): boolean {
  if (value === '' || RESOLVED_WORDS.has(value) || BASE60_FLOAT.test(value)) return true;
  const first = value[0]!;
  if (first === '.') return DOT_FLOAT.test(value);
  if (!/[-+0-9]/.test(first)) return false;
  if (TIMESTAMP.test(value)) return true;
  const plain = value.replaceAll('_', '');
  return INT.test(plain) || FLOAT.test(plain);
}

// encode.go: an integer as Go prints it; a float with strconv.FormatFloat(f, 'g', -1, 64).
function goYamlNumber(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return value.toFixed(0);
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  // 'g' with the shortest precision switches to an exponent from 1e6, or below 1e-4.
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

/** sorter.go keyList.Less for two string keys: letters first, runs of digits by value. */
export function goYamlKeyLess(a: string, b: string): boolean {
  const [ar, br] = [[...a], [...b]];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const [al, bl] = [isLetter(ar[i]!), isLetter(br[i]!)];
    if (al && bl) return ar[i]! < br[i]!;
    if (al || bl) return bl;
    let [an, bn] = [0, 0];
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]!); j--) {
        if (ar[j] !== '0') {
          [an, bn] = [1, 1];
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && isDigit(ar[ai]!); ai++) an = an * 10 + digitValue(ar[ai]!);
    let bi = i;
    for (; bi < br.length && isDigit(br[bi]!); bi++) bn = bn * 10 + digitValue(br[bi]!);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i]! < br[i]!;
  }
  return ar.length < br.length;
}

const isLetter = (c: string): boolean => /\p{L}/u.test(c);
const isDigit = (c: string): boolean => /\p{Nd}/u.test(c);
// Go subtracts '0' from the rune, whatever script its digit is in.
const digitValue = (c: string): number => (c.codePointAt(0) ?? 48) - 48;
