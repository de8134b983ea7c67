import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../lib/core/render/html-report.ts';
import { HOSTILE_TEXT, hostileReport } from '../../support/hostile-report.ts';
import { sampleReport } from '../../support/sample-report.ts';

// Debian's chromium, installed by .ci/run; the flags keep it off the network this machine does not have.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('report.html in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-html-'));
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows every VM and every finding that did not pass, runs nothing a VM sent, and loads nothing', async () => {
    const report = sampleReport();
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtmlReport(report));
    const page = await browser.newPage();
    const dialogs: string[] = [];
    const requests: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);

    expect(await page.locator('#vms tbody tr').count()).toBe(report.vms.length);
    expect(await page.locator('#findings tbody tr').count()).toBe(report.findings.filter((f) => f.status === 'FAIL' || f.status === 'ERROR').length);
    expect(await page.locator('#vms tbody tr').first().locator('td').last().textContent()).toBe('NON_COMPLIANT');
    expect(await page.locator('#controls tbody tr').count()).toBe(Object.keys(report.summary.byControl).length);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.getByText('<script>alert("x")</script>', { exact: false }).count()).toBe(1);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([`file://${file}`]);
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    await page.close();
  });

  it('shows markup a VM sent as text: no element, no handler and no request comes of it', async () => {
    const file = join(dir, 'hostile.html');
    writeFileSync(file, renderHtmlReport(hostileReport()));
    const page = await browser.newPage();
    const dialogs: string[] = [];
    const requests: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForLoadState('load');

    expect(await page.locator('script, img, iframe, object, embed').count()).toBe(0);
    expect(await page.locator('[onerror], [onload], [onclick]').count()).toBe(0);
    // The hostile message and hostname are on the page, as the characters the VM sent.
    expect(await page.getByText('"><img src=x onerror=alert(1)>', { exact: false }).count()).toBeGreaterThan(0);
    expect(await page.getByText(HOSTILE_TEXT.formula, { exact: false }).count()).toBeGreaterThan(0);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([`file://${file}`]);
    await page.close();
  });
});
