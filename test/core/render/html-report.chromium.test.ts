import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../lib/core/render/html-report.ts';
import type { Report } from '../../../lib/core/report.ts';
import { HOSTILE_TEXT, hostileReport } from '../../support/hostile-report.ts';
import { waivedHostileReport } from '../../support/report-variants.ts';
import { sampleReport } from '../../support/sample-report.ts';
import { launchChromium } from '../../support/chromium.ts';

/** Screenshots are kept for a reader of the test run (git ignores the directory). */
const ARTIFACTS = fileURLToPath(new URL('../../../test-results/report-html/', import.meta.url));

interface Opened {
  page: Page;
  file: string;
  dialogs: string[];
  requests: string[];
  /** Console errors, uncaught exceptions and Content-Security-Policy violations. */
  problems: string[];
}

/** A report of `vms` VMs, each failing one control, for the paging of the VM table. */
function largeReport(vms: number): Report {
  const base = hostileReport();
  const list = Array.from({ length: vms }, (_, i) => ({
    ...base.vms[1]!,
    instanceId: `i-${String(i).padStart(17, '0')}`,
    hostname: `host-${i}`,
  }));
  const failing = base.findings.find((f) => f.control === 'HEALTH-03' && f.status === 'FAIL')!;
  return {
    ...base,
    summary: { ...base.summary, vms },
    vms: list,
    findings: list.map((vm) => ({ ...failing, subject: { kind: 'vm', id: vm.instanceId } })),
  };
}

describe('report.html in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    browser = await launchChromium();
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-html-'));
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(report: Report, name: string): Promise<Opened> {
    const file = join(dir, name);
    writeFileSync(file, renderHtmlReport(report));
    const page = await browser.newPage();
    const opened: Opened = { page, file, dialogs: [], requests: [], problems: [] };
    page.on('dialog', (d) => {
      opened.dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('request', (r) => opened.requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') opened.problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => opened.problems.push(`uncaught: ${e.message}`));
    // A violation is reported on the console too; the listener makes sure of it. (Strings: the tests have no DOM types.)
    await page.addInitScript({
      content:
        "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))",
    });
    await page.goto(`file://${file}`);
    await page.waitForSelector('html[data-ready]');
    return opened;
  }

  const visibleHostnames = (page: Page): Promise<string[]> => page.locator('#vms tbody tr:not(.drill) th').allTextContents();

  it('runs its own script only, with no error, no CSP violation and no request, and shows every VM', async () => {
    const report = sampleReport();
    const { page, file, dialogs, requests, problems } = await open(report, 'report.html');

    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([`file://${file}`]);
    expect(await visibleHostnames(page)).toEqual(['web-2', 'web-3', '(no hostname)', 'web-1']);
    expect(await page.locator('#vms tbody tr').first().locator('td').nth(2).textContent()).toBe('NON_COMPLIANT');
    expect(await page.locator('#controls tbody tr').count()).toBe(Object.keys(report.summary.byControl).length);
    expect(await page.locator('#vm-filters').isVisible()).toBe(true);
    expect(await page.locator('#vm-count').textContent()).toBe('All 4 VMs');
    // The list for readers without script is not built.
    expect(await page.locator('#vms-static, details[id^="vm-"]').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await page.close();
  });

  it('finds a VM by hostname and opens its findings, with evidence and remediation', async () => {
    const { page, problems } = await open(sampleReport(), 'search.html');
    await page.getByRole('searchbox', { name: 'Search' }).fill('web-3');
    expect(await visibleHostnames(page)).toEqual(['web-3']);
    expect(await page.locator('#vm-count').textContent()).toBe('1 VM of 4 match');

    const link = page.getByRole('link', { name: 'web-3' });
    expect(await link.getAttribute('aria-expanded')).toBe('false');
    await link.click();
    expect(await link.getAttribute('aria-expanded')).toBe('true');
    const drillDown = page.locator('#vms tr.drill');
    expect(
      await drillDown.getByText('the readiness probe answered 503: Envoy proxy is NOT ready: <script>', { exact: false }).isVisible(),
    ).toBe(true);
    expect(await drillDown.locator('.fix code').first().textContent()).toBe('curl -v localhost:15021/healthz/ready');
    await drillDown.getByText('evidence', { exact: true }).click();
    expect(await drillDown.locator('pre').textContent()).toContain('"httpCode": 503');
    expect(page.url()).toMatch(/#vm-1$/);
    await link.press('Enter');
    expect(await drillDown.isVisible()).toBe(false);

    // By instance id, by a failing control, and several words at once.
    await page.getByRole('searchbox', { name: 'Search' }).fill('mi-0000');
    expect(await visibleHostnames(page)).toEqual(['(no hostname)']);
    await page.getByRole('link', { name: '(no hostname)' }).click();
    // What could not be evaluated is under the failure that caused it, without a remediation of its own.
    expect(await drillDown.locator('ol.findings > li').count()).toBe(1);
    expect(await drillDown.getByText('4 findings not evaluated because of this').count()).toBe(1);
    await page.getByRole('searchbox', { name: 'Search' }).fill('reg-01');
    expect(await visibleHostnames(page)).toEqual(['web-2']);
    await page.getByRole('searchbox', { name: 'Search' }).fill('payments web-1');
    expect(await visibleHostnames(page)).toEqual(['web-1']);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('filters by status, namespace, failing control and severity', async () => {
    const { page, problems } = await open(sampleReport(), 'filters.html');
    await page.getByLabel('Status').selectOption('UNKNOWN');
    expect(await visibleHostnames(page)).toEqual(['(no hostname)']);
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Namespace').selectOption('payments');
    expect(await visibleHostnames(page)).toEqual(['web-2', 'web-3', 'web-1']);
    await page.getByLabel('Failing control').selectOption('HEALTH-03');
    expect(await visibleHostnames(page)).toEqual(['web-2', 'web-3']);
    await page.getByLabel('Failing control').selectOption('');
    await page.getByLabel('Namespace').selectOption('');
    await page.getByLabel('Severity').selectOption('HIGH');
    // REG-01 (HIGH) fails on web-2; COLLECT-01 (HIGH) on the VM without hostname.
    expect(await visibleHostnames(page)).toEqual(['web-2', '(no hostname)']);
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => visibleHostnames(page)).toEqual(['web-2', 'web-3', '(no hostname)', 'web-1']);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('sorts by a column from a click or the keyboard, and says so with aria-sort', async () => {
    const { page, problems } = await open(sampleReport(), 'sort.html');
    const hostname = page.locator('#vms thead th', { hasText: 'Hostname' });
    expect(await hostname.getAttribute('aria-sort')).toBe('none');
    await page.getByRole('button', { name: 'Hostname' }).click();
    expect(await hostname.getAttribute('aria-sort')).toBe('ascending');
    expect(await visibleHostnames(page)).toEqual(['(no hostname)', 'web-1', 'web-2', 'web-3']);
    await page.getByRole('button', { name: 'Hostname' }).press('Enter');
    expect(await hostname.getAttribute('aria-sort')).toBe('descending');
    expect(await visibleHostnames(page)).toEqual(['web-3', 'web-2', 'web-1', '(no hostname)']);
    await page.getByRole('button', { name: 'Failing controls' }).click();
    expect(await hostname.getAttribute('aria-sort')).toBe('none');
    expect((await visibleHostnames(page))[0]).toBe('web-2');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a large fleet a hundred rows at a time, and opens a VM a link names wherever it is', async () => {
    const { page, problems } = await open(largeReport(250), 'large.html');
    expect(await page.locator('#vm-count').textContent()).toBe('All 250 VMs; showing the first 100');
    expect(await visibleHostnames(page)).toHaveLength(100);
    await page.getByRole('button', { name: 'Show 100 more' }).click();
    expect(await visibleHostnames(page)).toHaveLength(200);
    expect(await page.getByRole('button', { name: 'Show all 250 VMs' }).isVisible()).toBe(false);
    await page.getByRole('searchbox', { name: 'Search' }).fill('host');
    await page.getByRole('button', { name: 'Show all 250 VMs' }).click();
    expect(await visibleHostnames(page)).toHaveLength(250);
    expect(await page.getByRole('button', { name: /^Show/ }).count()).toBe(0);

    await page.goto(`${page.url()}#vm-240`);
    expect(await visibleHostnames(page)).toEqual(['host-240']);
    expect(await page.locator('#vm-240').isVisible()).toBe(true);
    expect(await page.evaluate('document.activeElement.textContent')).toBe('host-240');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('prints every VM that matches with its findings, and no control', async () => {
    const { page, problems } = await open(sampleReport(), 'print.html');
    await page.getByLabel('Status').selectOption('NON_COMPLIANT');
    await page.evaluate("window.dispatchEvent(new Event('beforeprint'))");
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('#vm-filters').isVisible()).toBe(false);
    expect(await page.locator('#vms tr.drill').count()).toBe(2);
    expect(await page.locator('#vms tr.drill .fix').first().isVisible()).toBe(true);
    // The drill-downs no VM claims are printed open too.
    expect(await page.locator('#subject-0 .fix').isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'report-print.png'), fullPage: true });
    await page.evaluate("window.dispatchEvent(new Event('afterprint'))");
    await page.emulateMedia({ media: 'screen' });
    expect(await page.locator('#vms tr.drill:not([hidden])').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('is whole without script: every VM, and the findings of each a link away, printed open', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const file = join(dir, 'no-script.html');
    writeFileSync(file, renderHtmlReport(sampleReport()));
    await page.goto(`file://${file}`);
    expect(await page.locator('#vm-filters').isVisible()).toBe(false);
    expect(await page.locator('#vms-static tbody th').allTextContents()).toEqual(['web-2', 'web-3', '(no hostname)', 'web-1']);
    await page.getByRole('link', { name: 'web-3' }).click();
    expect(page.url()).toMatch(/#vm-1$/);
    await page.locator('#vm-1 > summary').click();
    expect(await page.locator('#vm-1').getByText('the readiness probe answered 503', { exact: false }).isVisible()).toBe(true);
    await page.locator('#vm-1').getByRole('link', { name: 'HEALTH-03' }).click();
    expect(await page.locator('#control-HEALTH-03 ~ td.fix code').first().textContent()).toBe('curl -v localhost:15021/healthz/ready');
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('#vm-0 .fix').first().isVisible()).toBe(true);
    await context.close();
  });

  it('shows waivers with their justification, owner and expiry, in the list and on the finding', async () => {
    const { page, file, problems } = await open(waivedHostileReport(), 'waivers.html');
    const row = page.locator('#waivers tbody tr');
    expect(await row.locator('td').allTextContents()).toEqual([
      'vm i-0a1b2c3d4e5f60002',
      'web-2 is being replaced; its readiness is <b>accepted</b> until then',
      'platform-team@example.com',
      '2027-01-31T00:00:00Z',
      'active',
      '1',
    ]);
    await page.getByRole('link', { name: 'web-2' }).click();
    expect(await page.locator('#vms tr.drill .waiver').textContent()).toBe(
      'Waived until 2027-01-31T00:00:00Z by platform-team@example.com: web-2 is being replaced; its readiness is <b>accepted</b> until then',
    );
    // A link to a subject no VM claims opens its drill-down, once the page has it.
    await page.goto('about:blank');
    await page.goto(`${pathToFileURL(file).href}#subject-0`);
    expect(await page.locator('#subject-0').getAttribute('open')).toBe('');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows markup a VM sent as text, opened and searched: no element, no handler and no request comes of it', async () => {
    const { page, file, dialogs, requests, problems } = await open(hostileReport(), 'hostile.html');
    await page.getByRole('searchbox', { name: 'Search' }).fill('<img');
    await page.getByRole('searchbox', { name: 'Search' }).fill('');
    await page.getByRole('button', { name: 'Hostname' }).click();
    for (const link of await page.locator('#vms tbody a').all()) await link.click();
    await page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })");

    expect(await page.locator('#vms tr.drill').count()).toBe(3);
    expect(await page.locator('img, iframe, object, embed, svg, math').count()).toBe(0);
    expect(await page.locator('script:not([type="application/json"])').count()).toBe(1);
    expect(await page.locator('[onerror], [onload], [onclick]').count()).toBe(0);
    // The hostile message and hostname are on the page, as the characters the VM sent.
    expect(await page.getByText('"><img src=x onerror=alert(1)>', { exact: false }).count()).toBeGreaterThan(0);
    expect(await page.getByText(HOSTILE_TEXT.formula, { exact: false }).count()).toBeGreaterThan(0);
    await page.getByRole('searchbox', { name: 'Search' }).fill('HYPERLINK');
    expect(await visibleHostnames(page)).toEqual([HOSTILE_TEXT.formula]);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([`file://${file}`]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
