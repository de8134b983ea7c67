import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReportJunit } from '../../../lib/core/render/report-junit.ts';
import { hostileReport } from '../../support/hostile-report.ts';
import { launchChromium } from '../../support/chromium.ts';

/** The part of the browser's DOM the check uses (the project compiles without the DOM library). */
interface XmlElement {
  tagName: string;
  textContent: string | null;
  firstElementChild: XmlElement | null;
  getAttribute(name: string): string | null;
}
interface XmlDocument {
  getElementsByTagName(name: string): ArrayLike<XmlElement>;
}
type XmlParser = new () => { parseFromString(text: string, type: string): XmlDocument };

interface ParsedJunit {
  error: string | null;
  cases: { classname: string | null; name: string | null; outcome: string | null; message: string | null; text: string | null }[];
}

describe('report.junit.xml in an XML parser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('is well-formed, and gives back each finding with what XML cannot hold replaced by U+FFFD', async () => {
    const report = hostileReport();
    const page = await browser.newPage();
    const parsed = await page.evaluate((xml): ParsedJunit => {
      const Parser = (globalThis as unknown as { DOMParser: XmlParser }).DOMParser;
      const doc = new Parser().parseFromString(xml, 'application/xml');
      const error = doc.getElementsByTagName('parsererror')[0];
      return {
        error: error ? error.textContent : null,
        cases: Array.from(doc.getElementsByTagName('testcase')).map((c) => {
          const outcome = c.firstElementChild;
          return {
            classname: c.getAttribute('classname'),
            name: c.getAttribute('name'),
            outcome: outcome?.tagName ?? null,
            message: outcome?.getAttribute('message') ?? null,
            text: outcome?.textContent ?? null,
          };
        }),
      };
    }, renderReportJunit(report));
    await page.close();

    expect(parsed.error).toBeNull();
    expect(parsed.cases.map((c) => [c.classname, c.outcome])).toEqual(
      report.findings.map((f) => [
        f.control,
        { PASS: null, FAIL: 'failure', ERROR: 'error', SKIP: 'skipped', WAIVED: 'skipped' }[f.status],
      ]),
    );
    const replaced = (text: string): string =>
      text.replace(/[^\t\n\r\u0020-\u007e\u00a0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD');
    report.findings.forEach((f, i) => {
      const c = parsed.cases[i]!;
      if (f.status === 'FAIL' || f.status === 'ERROR') {
        expect(c.message).toBe(replaced(f.message));
        expect(c.text!.startsWith(`${replaced(f.message)}\nseverity: ${f.severity}\n`)).toBe(true);
      }
      if (f.status === 'SKIP' || f.status === 'WAIVED') expect(c.message).toBe(replaced(`${f.status}: ${f.message}`));
    });
    expect(parsed.cases[0]!.name).toBe(`vm i-0a1b2c3d4e5f60001 (${report.vms[0]!.hostname})`);
  });
});
