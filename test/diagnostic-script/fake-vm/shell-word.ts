/** A word the shell reads back as exactly `text`. */
export function sq(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
