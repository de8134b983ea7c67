/**
 * Characters XML 1.0 does not allow in a document (https://www.w3.org/TR/xml/#charsets: only tab, LF, CR,
 * U+0020–U+D7FF, U+E000–U+FFFD and U+10000–U+10FFFF), lone surrogates among them, plus DEL and the C1
 * controls the same section discourages. A VM can send any of them; they become U+FFFD.
 */
const NOT_XML = /[^\t\n\r\u0020-\u007e\u00a0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text made fit for XML character data: invalid characters replaced, markup escaped, CR kept as a reference. */
export function xmlText(text: string): string {
  return text.replace(NOT_XML, '\uFFFD').replace(/[&<>\r]/g, (c) => XML_ESCAPES[c]!);
}

/**
 * Text made fit for a double-quoted attribute value. Tab, LF and CR are written as references, since a
 * parser turns them into spaces otherwise (https://www.w3.org/TR/xml/#AVNormalize).
 */
export function xmlAttribute(text: string): string {
  return text.replace(NOT_XML, '\uFFFD').replace(/[&<>"'\t\n\r]/g, (c) => XML_ESCAPES[c]!);
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};
