/**
 * Makes text that a VM or the cluster sent safe to print in one terminal cell: control characters (ANSI
 * escapes among them), line and tab breaks (which would forge rows) and bidirectional overrides (which
 * reorder what is shown) become U+FFFD.
 */
export function sanitizeForTerminal(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\uFFFD');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML element content and quoted attribute values. Characters the HTML standard makes a
 * parse error wherever they appear (controls other than whitespace, noncharacters) become U+FFFD: a VM
 * that prints them gets a visible mark, not a page that is not well-formed.
 */
export function escapeHtml(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f\ufdd0-\ufdef\ufffe\uffff]/g, (c) => HTML_ESCAPES[c] ?? '\uFFFD');
}

/** Lays rows out in left-aligned columns separated by `gap` spaces (the last column is not padded). */
export function formatColumns(rows: string[][], gap = 2): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + gap)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}
