/** Go's `<` on strings: byte order of the UTF-8 encoding (code point order, unlike UTF-16 or localeCompare). */
export function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
