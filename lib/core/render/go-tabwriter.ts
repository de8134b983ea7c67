/** Settings of Go's text/tabwriter (`Init(w, minwidth, tabwidth, padding, ' ', 0)`), padding with spaces. */
export interface TabwriterSettings {
  minwidth: number;
  padding: number;
}

/**
 * Lays text out as Go's text/tabwriter does with a space pad character and no flags: cells end at a tab
 * (or \v), lines at \n (\f also ends the column blocks), the last cell of a line belongs to no column, a
 * column block is a run of consecutive lines that have a cell in that column, and each column of a block
 * is as wide as its widest cell (counted in code points) plus the padding, at least `minwidth`.
 */
export function goTabwriter(text: string, settings: TabwriterSettings): string {
  const sections = text.split('\f');
  return sections.map((section, i) => formatSection(section, i === sections.length - 1, settings)).join('\n');
}

function formatSection(text: string, last: boolean, settings: TabwriterSettings): string {
  const rawLines = text.split('\n');
  const lines = rawLines.map((line, i) => {
    const cells = line.split(/[\t\v]/);
    // A cell is only kept at the very end of the input when it holds text (Go's Flush terminates it then).
    if (last && i === rawLines.length - 1 && cells.at(-1) === '') cells.pop();
    return cells;
  });
  const out = new Array<string>(lines.length);
  const widths: number[] = [];
  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      out[i] = lines[i]!.map((cell, j) => (j < widths.length ? cell + ' '.repeat(widths[j]! - codePoints(cell)) : cell)).join('');
    }
  };
  const format = (from: number, to: number): void => {
    let line0 = from;
    const column = widths.length;
    for (let current = from; current < to; current++) {
      if (column >= lines[current]!.length - 1) continue;
      writeLines(line0, current);
      line0 = current;
      let width = settings.minwidth;
      for (; current < to; current++) {
        const cells = lines[current]!;
        if (column >= cells.length - 1) break;
        width = Math.max(width, codePoints(cells[column]!) + settings.padding);
      }
      widths.push(width);
      format(line0, current);
      widths.pop();
      line0 = current;
    }
    writeLines(line0, to);
  };
  format(0, lines.length);
  return out.join('\n');
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
