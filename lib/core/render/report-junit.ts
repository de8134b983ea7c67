import type { Finding, Report } from '../report.ts';
import { appendTo } from '../multimap.ts';
import { findingPlacer } from './finding-subject.ts';
import { xmlAttribute, xmlText } from './xml.ts';

/**
 * report.junit.xml: the findings as test results, for CI systems that show JUnit XML (GitLab, Jenkins,
 * GitHub checks). One test suite per control, one test case per finding (classname the control, name the
 * subject); FAIL is a <failure>, ERROR an <error>, SKIP and WAIVED are <skipped>, PASS is a bare case.
 */
export function renderReportJunit(report: Report): string {
  return [...reportJunitChunks(report)].join('');
}

/** report.junit.xml a line at a time, so that a writer never holds the whole text. */
export function* reportJunitChunks(report: Report): Generator<string> {
  const place = findingPlacer(report);
  const byControl = new Map<string, Finding[]>();
  for (const f of report.findings) appendTo(byControl, f.control, f);
  const line = (text: string): string => `${text}\n`;
  yield line('<?xml version="1.0" encoding="UTF-8"?>');
  yield line(
    `<testsuites name="${xmlAttribute(`fleet-audit ${report.runId}`)}"${counts(report.findings)} timestamp="${xmlAttribute(report.startedAt)}">`,
  );
  for (const [control, findings] of byControl) {
    const about = report.summary.byControl[control];
    yield line(`  <testsuite name="${xmlAttribute(control)}"${counts(findings)} timestamp="${xmlAttribute(report.startedAt)}">`);
    if (about) {
      yield line('    <properties>');
      yield line(`      <property name="title" value="${xmlAttribute(about.title)}"/>`);
      yield line(`      <property name="severity" value="${xmlAttribute(about.severity)}"/>`);
      yield line('    </properties>');
    }
    for (const f of findings) {
      const hostname = f.subject.kind === 'vm' ? place(f).vm?.hostname : undefined;
      const name = `${f.subject.kind} ${f.subject.id}${hostname ? ` (${hostname})` : ''}`;
      const open = `    <testcase classname="${xmlAttribute(control)}" name="${xmlAttribute(name)}"`;
      yield line(testcaseBody(open, f).join('\n'));
    }
    yield line('  </testsuite>');
  }
  yield line('</testsuites>');
}

function testcaseBody(open: string, f: Finding): string[] {
  switch (f.status) {
    case 'PASS':
      return [`${open}/>`];
    case 'SKIP':
    case 'WAIVED':
      return [`${open}>`, `      <skipped message="${xmlAttribute(`${f.status}: ${f.message}`)}"/>`, '    </testcase>'];
    case 'FAIL':
    case 'ERROR': {
      const element = f.status === 'FAIL' ? 'failure' : 'error';
      const details = [
        f.message,
        `severity: ${f.severity}`,
        ...(f.remediation ? [`remediation: ${f.remediation}`] : []),
        `evidence: ${JSON.stringify(f.evidence)}`,
      ].join('\n');
      return [
        `${open}>`,
        `      <${element} message="${xmlAttribute(f.message)}" type="${xmlAttribute(f.severity)}">${xmlText(details)}</${element}>`,
        '    </testcase>',
      ];
    }
  }
}

function counts(findings: readonly Finding[]): string {
  const n = (status: Finding['status']): number => findings.filter((f) => f.status === status).length;
  return ` tests="${findings.length}" failures="${n('FAIL')}" errors="${n('ERROR')}" skipped="${n('SKIP') + n('WAIVED')}"`;
}
