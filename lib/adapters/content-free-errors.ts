import type { z } from 'zod';

/**
 * Describes what is wrong with a stored file without repeating any of it. A bundle file may be a link to
 * a secret, or written by someone who wants their bytes in our logs and terminals, so a message says where
 * the problem is (a line and column, a path of the schema's own field names) and never what is there.
 * V8's JSON.parse messages quote the text they failed on, and zod paths carry the file's own object keys:
 * neither is shown as is.
 */

/** Where a JSON text first stops being JSON (RFC 8259), e.g. `unexpected character at line 3, column 14`. */
export function describeJsonSyntaxError(text: string): string {
  const offset = firstJsonSyntaxError(text);
  if (offset === undefined) return 'rejected by the JSON parser';
  const { line, column } = lineAndColumn(text, offset);
  return offset >= text.length
    ? `it ends early, at line ${line}, column ${column}`
    : `unexpected character at line ${line}, column ${column}`;
}

// The parser's states: what may come next.
const State = {
  Value: 0,
  ValueOrArrayEnd: 1,
  KeyOrObjectEnd: 2,
  Key: 3,
  Colon: 4,
  AfterValue: 5,
} as const;
type State = (typeof State)[keyof typeof State];

const ARRAY = 0;
const OBJECT = 1;

/**
 * The offset of the first character that cannot continue a JSON text (the text's length when it ends
 * early), or undefined when it is valid JSON. Iterative, so any nesting depth costs no stack.
 */
export function firstJsonSyntaxError(text: string): number | undefined {
  const n = text.length;
  const stack: number[] = [];
  let state: State = State.Value;
  let i = 0;
  for (;;) {
    while (i < n && isWhitespace(text.charCodeAt(i))) i++;
    if (state === State.AfterValue && stack.length === 0) return i < n ? i : undefined;
    if (i >= n) return n;
    const c = text.charCodeAt(i);
    switch (state) {
      case State.AfterValue: {
        const inArray = stack[stack.length - 1] === ARRAY;
        if (c === 0x2c /* , */) {
          i++;
          state = inArray ? State.Value : State.Key;
        } else if (c === (inArray ? 0x5d /* ] */ : 0x7d) /* } */) {
          i++;
          stack.pop();
        } else return i;
        continue;
      }
      case State.Colon:
        if (c !== 0x3a /* : */) return i;
        i++;
        state = State.Value;
        continue;
      case State.KeyOrObjectEnd:
      case State.Key:
        if (state === State.KeyOrObjectEnd && c === 0x7d) {
          i++;
          stack.pop();
          state = State.AfterValue;
          continue;
        }
        if (c !== 0x22) return i;
        i = scanString(text, i);
        if (i < 0) return -i - 1;
        state = State.Colon;
        continue;
      case State.ValueOrArrayEnd:
        if (c === 0x5d) {
          i++;
          stack.pop();
          state = State.AfterValue;
        } else {
          // Any other character starts the first value: look at it again as one.
          state = State.Value;
        }
        continue;
      case State.Value: {
        if (c === 0x5b /* [ */) {
          stack.push(ARRAY);
          i++;
          state = State.ValueOrArrayEnd;
          continue;
        }
        if (c === 0x7b /* { */) {
          stack.push(OBJECT);
          i++;
          state = State.KeyOrObjectEnd;
          continue;
        }
        const end = c === 0x22 ? scanString(text, i) : c === 0x2d || isDigit(c) ? scanNumber(text, i) : scanLiteral(text, i);
        if (end < 0) return -end - 1;
        i = end;
        state = State.AfterValue;
        continue;
      }
    }
  }
}

// The scanners return the offset after what they read, or -(offset of the problem) - 1.

function scanString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -i - 1;
    if (c !== 0x5c) {
      i++;
      continue;
    }
    if (i + 1 >= text.length) return -text.length - 1;
    const escape = text[i + 1]!;
    if ('"\\/bfnrt'.includes(escape)) {
      i += 2;
    } else if (escape === 'u') {
      for (let k = 2; k < 6; k++) {
        if (i + k >= text.length) return -text.length - 1;
        if (!isHexDigit(text.charCodeAt(i + k))) return -(i + k) - 1;
      }
      i += 6;
    } else return -(i + 1) - 1;
  }
  return -text.length - 1;
}

function scanNumber(text: string, start: number): number {
  let i = start;
  if (text.charCodeAt(i) === 0x2d) i++;
  const digits = (): number => {
    const from = i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
    return i - from;
  };
  if (i >= text.length) return -i - 1;
  if (text.charCodeAt(i) === 0x30) i++;
  else if (digits() === 0) return -i - 1;
  if (text.charCodeAt(i) === 0x2e /* . */) {
    i++;
    if (digits() === 0) return -i - 1;
  }
  if (text.charCodeAt(i) === 0x65 || text.charCodeAt(i) === 0x45 /* e E */) {
    i++;
    if (text.charCodeAt(i) === 0x2b || text.charCodeAt(i) === 0x2d) i++;
    if (digits() === 0) return -i - 1;
  }
  return i;
}

function scanLiteral(text: string, start: number): number {
  const literal = text[start] === 't' ? 'true' : text[start] === 'f' ? 'false' : text[start] === 'n' ? 'null' : undefined;
  if (!literal) return -start - 1;
  for (let k = 1; k < literal.length; k++) {
    if (text[start + k] !== literal[k]) return -(start + k) - 1;
  }
  return start + literal.length;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * A zod issue path as a message may show it: a segment is shown when the schema itself names it (a field
 * of an object schema) or it is an array index; any other key came from the file and shows as `<key>`.
 */
export function schemaPathOf(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string {
  const shown: string[] = [];
  let current: SchemaNode | undefined = schema as unknown as SchemaNode;
  for (const segment of path) {
    current = unwrap(current);
    const def = current?._zod.def;
    if (typeof segment === 'number') {
      shown.push(String(segment));
      current = def?.type === 'array' ? def.element : undefined;
    } else if (def?.type === 'object' && typeof segment === 'string' && def.shape && Object.hasOwn(def.shape, segment)) {
      shown.push(segment);
      current = def.shape[segment];
    } else {
      shown.push('<key>');
      current = def?.type === 'record' ? def.valueType : undefined;
    }
  }
  return shown.join('.') || '(root)';
}

/** A zod issue's message, unless it is one that lists the file's own keys. */
export function issueMessageOf(issue: z.core.$ZodIssue): string {
  return issue.code === 'unrecognized_keys' ? 'has keys this part of the bundle does not allow' : issue.message;
}

// The part of zod's schema definitions (zod 4 `_zod.def`) walked above.
interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      element?: SchemaNode;
      valueType?: SchemaNode;
      innerType?: SchemaNode;
    };
  };
}

function unwrap(node: SchemaNode | undefined): SchemaNode | undefined {
  let current = node;
  while (
    current &&
    ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(current._zod.def.type) &&
    current._zod.def.innerType
  ) {
    current = current._zod.def.innerType;
  }
  return current;
}
