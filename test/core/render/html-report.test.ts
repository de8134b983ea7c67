import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../lib/core/render/html-report.ts';
import { expectGolden } from '../../support/golden.ts';
import { sampleReport } from '../../support/sample-report.ts';

describe('renderHtmlReport', () => {
  it('renders the report as one self-contained page', () => {
    expectGolden(renderHtmlReport(sampleReport()), 'report.html');
  });

  it('escapes what a VM sent and loads nothing from outside', () => {
    const html = renderHtmlReport(sampleReport());
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;');
    expect(html).not.toMatch(/(src|href)=/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });
});
