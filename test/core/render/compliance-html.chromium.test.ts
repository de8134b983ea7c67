import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeCompliance, parsePeriod } from '../../../lib/core/compliance/compliance-report.ts';
import { renderComplianceHtml } from '../../../lib/core/render/compliance-html.ts';
import { launchChromium } from '../../support/chromium.ts';
import { sampleDigests } from '../../support/compliance-history.ts';

describe('the compliance page in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    browser = await launchChromium();
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-compliance-html-'));
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies its own style by hash, refuses one smuggled into the page, and loads nothing', async () => {
    const compliance = computeCompliance(sampleDigests(), parsePeriod('30d')!);
    // A subject that got past the escaping would bring its own style; the policy must block it.
    const html = renderComplianceHtml(compliance).replace('</body>', '<style>body{background:rgb(255, 0, 0)}</style></body>');
    const file = join(dir, 'compliance.html');
    writeFileSync(file, html);
    const page = await browser.newPage();
    const violations: string[] = [];
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') violations.push(m.text());
    });
    await page.addInitScript({
      content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective))",
    });
    await page.goto(`file://${file}`);
    const style = await page.evaluate(
      "[getComputedStyle(document.querySelector('th')).backgroundColor, getComputedStyle(document.body).backgroundColor]",
    );
    expect(style).toEqual(['rgb(246, 248, 250)', 'rgb(255, 255, 255)']);
    expect(violations.some((v) => v.includes('style-src'))).toBe(true);
    expect(requests).toEqual([`file://${file}`]);
    await page.close();
  });
});
