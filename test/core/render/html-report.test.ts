import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../lib/core/render/html-report.ts';
import { escapeHtml } from '../../../lib/core/render/text.ts';
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

  it('marks characters HTML does not allow in its text, keeping whitespace', () => {
    expect(escapeHtml('a\u0000b\u001b[2J\u0085\u009b\u007f\ufffe\uffff\ufdd0c')).toBe('a\ufffdb\ufffd[2J\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdc');
    expect(escapeHtml('tab\tnew\nline\r\nfeed\f é 😀')).toBe('tab\tnew\nline\r\nfeed\f é 😀');
  });
});
