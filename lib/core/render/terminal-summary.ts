import { SEVERITIES, type Finding, type Report } from '../report.ts';
import { formatColumns, sanitizeForTerminal } from './text.ts';
import { appendTo } from '../multimap.ts';

/** Renders the CLI's summary: per-control counts and the worst VMs. Plain text, no colour. */
export function renderTerminalSummary(report: Report, options: { worst?: number } = {}): string {
  const s = report.summary;
  const lines = [
    `Fleet audit ${sanitizeForTerminal(report.runId)} (${report.source}), ${sanitizeForTerminal(report.finishedAt)}`,
    `${s.vms} VMs: ${s.compliant} compliant, ${s.nonCompliant} non-compliant, ${s.unknown} unknown`,
    ...(s.istioVersions ? [`Istio: istiod ${spreadText(s.istioVersions.istiod)}; proxies ${spreadText(s.istioVersions.proxies)}`] : []),
    '',
    formatColumns([
      ['CONTROL', 'SEVERITY', 'PASS', 'FAIL', 'ERROR', 'SKIP', 'WAIVED', 'TITLE'],
      ...Object.entries(s.byControl).map(([id, c]) => [
        id,
        c.severity,
        String(c.PASS),
        String(c.FAIL),
        String(c.ERROR),
        String(c.SKIP),
        String(c.WAIVED),
        c.title,
      ]),
    ]),
  ];
  const all = worstVms(report);
  const worst = all.slice(0, options.worst ?? 10);
  if (worst.length > 0) {
    lines.push('', 'Worst VMs:');
    lines.push(
      formatColumns([
        ['INSTANCE', 'HOSTNAME', 'STATUS', 'FINDINGS'],
        ...worst.map(({ vm, findings }) => [
          sanitizeForTerminal(vm.instanceId),
          sanitizeForTerminal(vm.hostname ?? '-'),
          vm.status,
          describeFindings(findings),
        ]),
      ]),
    );
    if (all.length > worst.length) lines.push(`… and ${all.length - worst.length} more VMs that are not compliant: see report.html`);
  }
  const other = report.findings.filter((f) => f.subject.kind !== 'vm' && (f.status === 'FAIL' || f.status === 'ERROR'));
  if (other.length > 0) {
    lines.push('', 'Mesh findings:');
    lines.push(
      formatColumns([
        ['CONTROL', 'STATUS', 'SUBJECT', 'MESSAGE'],
        ...other.map((f) => [
          f.control,
          f.status,
          `${f.subject.kind} ${sanitizeForTerminal(f.subject.id)}`,
          sanitizeForTerminal(f.message),
        ]),
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `1.24.6 ×2, 1.25.1 ×1`, or `none` (a version comes from the cluster: it is sanitized like any text). */
function spreadText(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? 'none' : entries.map(([version, n]) => `${sanitizeForTerminal(version)} ×${n}`).join(', ');
}

/** The failing controls by name, and the ones that could not be evaluated as a count: one VM, one line. */
function describeFindings(findings: Finding[]): string {
  const failed = findings.filter((f) => f.status === 'FAIL').map((f) => `${f.control} FAIL`);
  const errors = findings.filter((f) => f.status === 'ERROR');
  if (errors.length <= 2) return [...failed, ...errors.map((f) => `${f.control} ERROR`)].join(', ');
  return [...failed, `${errors.length} controls ERROR`].join(', ');
}

/** Non-compliant and unknown VMs, the most severe failures first. */
export function worstVms(report: Report): Array<{ vm: Report['vms'][number]; findings: Finding[] }> {
  const weight = (f: Finding): number => (f.status === 'FAIL' ? 10 : 1) * (SEVERITIES.length - SEVERITIES.indexOf(f.severity));
  // One pass over the findings: a scan per VM would cost the fleet's size squared.
  const failing = new Map<string, Finding[]>();
  for (const f of report.findings) {
    if (f.subject.kind === 'vm' && (f.status === 'FAIL' || f.status === 'ERROR')) appendTo(failing, f.subject.id, f);
  }
  return report.vms
    .filter((vm) => vm.status !== 'COMPLIANT')
    .map((vm) => ({ vm, findings: failing.get(vm.instanceId) ?? [] }))
    .map((entry) => ({ ...entry, score: entry.findings.reduce((sum, f) => sum + weight(f), 0) }))
    .sort((a, b) => b.score - a.score || (a.vm.instanceId < b.vm.instanceId ? -1 : 1))
    .map(({ vm, findings }) => ({ vm, findings }));
}
