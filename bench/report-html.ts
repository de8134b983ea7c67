/**
 * report.html at fleet scale: for each size, the simulated fleet is analyzed, its report.html rendered and
 * opened in headless Chromium (Debian's, as the tests use). Prints, per size: the page's bytes (and per
 * VM), the render time, the time to the load event and to the end of the page's script, and the time
 * one search of the VM table takes in the page. A benchmark: it asserts nothing.
 *
 *   node bench/report-html.ts [--sizes 1000,10000] [--results FILE]
 *
 * CHROMIUM_PATH names another Chromium.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeBundle } from '../lib/core/analyze.ts';
import type { EvidenceBundle, Invocation } from '../lib/core/evidence-bundle.ts';
import { renderHtmlReport } from '../lib/core/render/html-report.ts';
import { simClusterEvidence, simInstanceInformation, simInvocation } from '../sim/cluster.ts';
import type { SimFleet } from '../sim/fleet.ts';
import { formatHtmlReportBench, type HtmlReportBenchResult } from './report-html-format.ts';
import { benchFleet } from './sim-bundle.ts';
import { launchChromium } from '../test/support/chromium.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000' }, results: { type: 'string' } } });
const sizes = values.sizes.split(',').map((v) => Number(v.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error(`--sizes must be whole numbers separated by commas, got ${values.sizes}`);

const results: HtmlReportBenchResult[] = [];
const dir = await mkdtemp(join(tmpdir(), 'fleet-audit-bench-html-'));
const browser = await launchChromium();
try {
  for (const vms of sizes) {
    console.error(`report.html ${vms} VMs: building and analyzing the fleet`);
    const fleet = await benchFleet(vms);
    const report = analyzeBundle(bundleOf(fleet));
    const started = performance.now();
    const html = renderHtmlReport(report);
    const renderMs = performance.now() - started;
    const file = join(dir, `report-${vms}.html`);
    await writeFile(file, html);
    const bytes = Buffer.byteLength(html);
    console.error(`report.html ${vms} VMs: ${bytes} bytes, opening it in Chromium`);
    const page = await browser.newPage();
    // The renderer's CPU time: on a shared machine the wall times depend on the load, this much less.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`file://${file}`, { waitUntil: 'load', timeout: 120_000 });
    await page.waitForSelector('html[data-ready]', { timeout: 120_000 });
    // Both from the page's own clock, whose origin is the navigation's start.
    const timing = (await page.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { load: nav.loadEventEnd, ready: performance.getEntriesByName('report-ready')[0].startTime };
    })()`)) as { load: number; ready: number };
    const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const hostname = report.vms.at(-1)?.hostname ?? report.vms.at(-1)!.instanceId;
    const searchMs = (await page.evaluate(`new Promise((resolve) => {
      const input = document.querySelector('#vm-filters input[name=q]');
      const start = performance.now();
      input.value = ${JSON.stringify(hostname)};
      input.dispatchEvent(new Event('input', { bubbles: true }));
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start), 0));
    })`)) as number;
    const drillDowns =
      JSON.parse((await page.locator('#vm-data').textContent()) ?? '{}').vms.filter((vm: { f?: unknown }) => vm.f).length +
      (await page.locator('details.subject').count());
    await page.close();
    if (problems.length > 0) throw new Error(`report.html ${vms} VMs: the page reported ${problems.join('; ')}`);
    results.push({
      vms,
      bytes,
      bytesPerVm: Math.round(bytes / vms),
      drillDowns,
      renderMs: Math.round(renderMs),
      loadMs: Math.round(timing.load),
      readyMs: Math.round(timing.ready),
      loadCpuMs: Math.round((metrics.ThreadTime ?? 0) * 1000),
      searchMs: Math.round(searchMs),
      loadAverage: Number(loadavg()[0]!.toFixed(2)),
    });
  }
} finally {
  await browser.close();
  await rm(dir, { recursive: true, force: true });
}

console.log(formatHtmlReportBench(results));
if (values.results) await writeFile(values.results, `${JSON.stringify({ reportHtml: results }, null, 2)}\n`);

function bundleOf(fleet: SimFleet): EvidenceBundle {
  const invocations: Record<string, Invocation> = {};
  for (const vm of fleet.vms) invocations[vm.instanceId] = simInvocation(fleet, vm);
  const at = fleet.now.toISOString();
  return {
    manifest: { bundleVersion: 1, runId: 'bench', startedAt: at, finishedAt: at, source: 'sim' },
    inventory: { InstanceInformationList: fleet.vms.map((vm) => simInstanceInformation(fleet, vm)) },
    invocations,
    cluster: simClusterEvidence(fleet),
  };
}
