/** The figures of bench/report-html.ts, and their table. */

/** Opening the page is held to this at every size: a reader waits no longer. */
export const HTML_LOAD_TARGET_MS = 5000;

export interface HtmlReportBenchResult {
  vms: number;
  bytes: number;
  bytesPerVm: number;
  /** Drill-downs on the page (VMs, proxies and entries with something to act on); a VM's is built when opened. */
  drillDowns: number;
  renderMs: number;
  /** From navigation start to the end of the load event, as Chromium times it. */
  loadMs: number;
  /** From navigation start to the end of the page's script (search, filters and sort ready). */
  readyMs: number;
  /** CPU time of the page's renderer main thread until the load event (Chromium's ThreadTime). */
  loadCpuMs: number;
  /** One search typed in the VM table: filtering every row and the next frame drawn. */
  searchMs: number;
  /** The machine's 1-minute load average when the page was opened: wall times above mean little when it is high. */
  loadAverage: number;
}

export function formatHtmlReportBench(rows: readonly HtmlReportBenchResult[]): string {
  const table = [
    ['report.html in headless Chromium', ...rows.map((r) => `${r.vms.toLocaleString('en')} VMs`), 'target'],
    ['size (bytes)', ...rows.map((r) => String(r.bytes)), ''],
    ['size per VM (bytes)', ...rows.map((r) => String(r.bytesPerVm)), ''],
    ['drill-downs (VMs, proxies, entries)', ...rows.map((r) => String(r.drillDowns)), ''],
    ['render (ms)', ...rows.map((r) => String(r.renderMs)), ''],
    [
      'load event (ms)',
      ...rows.map((r) => String(r.loadMs)),
      `< ${HTML_LOAD_TARGET_MS} ${rows.every((r) => r.loadMs < HTML_LOAD_TARGET_MS) ? 'met' : 'MISSED'}`,
    ],
    [
      'script ready (ms)',
      ...rows.map((r) => String(r.readyMs)),
      `< ${HTML_LOAD_TARGET_MS} ${rows.every((r) => r.readyMs < HTML_LOAD_TARGET_MS) ? 'met' : 'MISSED'}`,
    ],
    ['renderer CPU to load (ms)', ...rows.map((r) => String(r.loadCpuMs)), ''],
    ['one search (ms)', ...rows.map((r) => String(r.searchMs)), ''],
    ['load average (1 min)', ...rows.map((r) => String(r.loadAverage)), ''],
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return table
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
