import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cspHashSource } from '../../../lib/core/render/csp-hash.ts';
import { foldConsequences } from '../../../lib/core/render/html-report-model.ts';
import { renderHtmlReport, withCode } from '../../../lib/core/render/html-report.ts';
import { escapeHtml } from '../../../lib/core/render/text.ts';
import type { Finding, Report } from '../../../lib/core/report.ts';
import { expectGolden } from '../../support/golden.ts';
import { HOSTILE_TEXT, hostileReport } from '../../support/hostile-report.ts';
import { waivedHostileReport } from '../../support/report-variants.ts';
import { sampleReport } from '../../support/sample-report.ts';

const finding = (control: string, status: Finding['status'], message: string): Finding => ({
  control,
  status,
  severity: 'HIGH',
  subject: { kind: 'vm', id: 'i-1' },
  message,
  evidence: {},
  remediation: `fix ${control}`,
});

describe('renderHtmlReport', () => {
  it('renders the report as one self-contained page', () => {
    expectGolden(renderHtmlReport(sampleReport()), 'report.html');
  });

  it('escapes what a VM sent and loads nothing from outside', () => {
    const html = renderHtmlReport(sampleReport());
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;');
    expect(html).not.toMatch(/src=/);
    expect([...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]).filter((href) => !/^#[a-z]+-[\w.-]+$/i.test(href!))).toEqual([]);
  });

  it('allows its inline style and script by their SHA-256 and nothing else', () => {
    const html = renderHtmlReport(sampleReport());
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    const sha = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(csp).toBe(`default-src 'none'; style-src ${sha(style)}; script-src ${sha(script)}; base-uri 'none'; form-action 'none'`);
    expect(cspHashSource('')).toBe(`'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='`);
  });

  it('hands the VMs to the script as JSON that no string a VM sent can close', () => {
    const report = hostileReport();
    report.vms[1]!.hostname = '</script><script>alert(1)</script><!--';
    const html = renderHtmlReport(report);
    const block = /<script type="application\/json" id="vm-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(block).not.toMatch(/[<>&]/);
    const data = JSON.parse(block) as { vms: Array<{ h: string; i: string; c: unknown; v: unknown }> };
    expect(data.vms[1]).toMatchObject({
      h: '</script><script>alert(1)</script><!--',
      i: 'i-0a1b2c3d4e5f60002',
      c: [['HEALTH-03', 'WAIVED']],
      v: [],
    });
    expect(data.vms[0]!.h).toBe(HOSTILE_TEXT.formula);
  });

  it('escapes a namespace a VM reports in the filter that lists it', () => {
    const report = hostileReport();
    report.vms[1]!.namespace = '</option><script>alert(1)</script>';
    expect(renderHtmlReport(report)).toContain('<option>&lt;/option&gt;&lt;script&gt;alert(1)&lt;/script&gt;</option>');
  });

  it('says 1 VM, not 1 VMs', () => {
    const report: Report = { ...hostileReport(), vms: hostileReport().vms.slice(0, 1) };
    report.summary = { ...report.summary, vms: 1 };
    const html = renderHtmlReport(report);
    expect(html).toContain('<caption>1 VM, problems first');
    expect(html).toContain('· 1 finding</summary>');
    expect(html).toContain('<li><b>1</b>VM</li>');
    expect(html).not.toMatch(/\b1 (VMs|findings)\b/);
  });

  it('shows what a waiver says on the finding and in the list of waivers', () => {
    const html = renderHtmlReport(waivedHostileReport());
    expect(html).toContain(
      '<p class="waiver">Waived until 2027-01-31T00:00:00Z by platform-team@example.com: web-2 is being replaced; its readiness is &lt;b&gt;accepted&lt;/b&gt; until then</p>',
    );
    expect(html).toContain(
      '<td>platform-team@example.com</td><td>2027-01-31T00:00:00Z</td><td><span class="s active">active</span></td><td class="n">1</td>',
    );
    // The waiver is said once in words, not again as evidence.
    expect(html).not.toContain('&quot;waiver&quot;');
  });

  it('lists a finding about a proxy or an entry no VM claims under that subject', () => {
    const html = renderHtmlReport(hostileReport());
    expect(html).toMatch(/<details class="subject" id="subject-\d+"><summary>WorkloadEntry payments\/web-9 · 1 finding<\/summary>/);
    // The proxy web-1.payments is claimed by the first VM: its finding is in that VM's drill-down.
    expect(html).toMatch(/<b>XDS-05<\/b> LOW <span class="meta">on proxy web-1.payments<\/span>/);
  });

  it('marks characters HTML does not allow in its text, keeping whitespace', () => {
    expect(escapeHtml('a\u0000b\u001b[2J\u0085\u009b\u007f\ufffe\uffff\ufdd0c')).toBe(
      'a\ufffdb\ufffd[2J\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdc',
    );
    expect(escapeHtml('tab\tnew\nline\r\nfeed\f é 😀')).toBe('tab\tnew\nline\r\nfeed\f é 😀');
  });
});

describe('withCode', () => {
  it('shows backticked spans as code, escaped, and leaves an unpaired backtick as it is', () => {
    expect(withCode('Run `kubectl get we -n <ns>` then `x`.')).toBe('Run <code>kubectl get we -n &lt;ns&gt;</code> then <code>x</code>.');
    expect(withCode('a `b` c `d')).toBe('a <code>b</code> c `d');
    expect(withCode('no code')).toBe('no code');
  });
});

describe('foldConsequences', () => {
  it('puts what could not be evaluated under the failure that caused it, to the first cause of a chain', () => {
    const collect = finding('COLLECT-01', 'FAIL', 'the SSM invocation ended Failed');
    const health = finding('HEALTH-01', 'ERROR', 'no diagnostic output to evaluate (see COLLECT-01)');
    const cert = finding('CERT-01', 'ERROR', 'the Envoy admin port refused the connection (see HEALTH-01)');
    const other = finding('NET-01', 'FAIL', 'no capture rules');
    expect(foldConsequences([health, cert, collect, other])).toEqual([
      { finding: collect, consequences: [health, cert] },
      { finding: other, consequences: [] },
    ]);
  });

  it('lists a finding on its own when the control it names did not fail, and breaks cycles', () => {
    const alone = finding('HEALTH-03', 'ERROR', 'could not read (see HEALTH-01)');
    const a = finding('A-01', 'ERROR', '(see B-01)');
    const b = finding('B-01', 'ERROR', '(see A-01)');
    expect(foldConsequences([alone, a, b])).toEqual([
      { finding: alone, consequences: [] },
      { finding: a, consequences: [] },
      { finding: b, consequences: [] },
    ]);
  });
});
