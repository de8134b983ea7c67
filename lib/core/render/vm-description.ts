import type { Finding, Report, VmSummary } from '../report.ts';
import { findingsByVm } from '../vm-findings.ts';
import { formatColumns, sanitizeForTerminal as t } from './text.ts';

/** One VM of a report with every finding about it: its own, and the mesh's about its proxy and WorkloadEntry. */
export interface VmDescription {
  runId: string;
  finishedAt: string;
  vm: VmSummary;
  findings: Finding[];
}

/** Statuses in the order a reader wants them: what is wrong first. */
const STATUS_ORDER: Record<Finding['status'], number> = { FAIL: 0, ERROR: 1, WAIVED: 2, SKIP: 3, PASS: 4 };

/**
 * Finds a VM of the report by instance id, else by hostname. Several VMs with that hostname are listed,
 * never one picked: the caller says which.
 */
export function findVm(report: Report, key: string): { vm: VmSummary } | { matches: VmSummary[] } {
  const byId = report.vms.find((vm) => vm.instanceId === key);
  if (byId) return { vm: byId };
  const byName = report.vms.filter((vm) => vm.hostname !== null && vm.hostname.toLowerCase() === key.toLowerCase());
  return byName.length === 1 ? { vm: byName[0]! } : { matches: byName };
}

/** Gathers what the report says about one VM. Linear in the findings. */
export function describeVm(report: Report, vm: VmSummary): VmDescription {
  const findings = (findingsByVm({ ...report, vms: [vm] }).get(vm.instanceId) ?? []).sort(
    (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || (a.control < b.control ? -1 : a.control > b.control ? 1 : 0),
  );
  return { runId: report.runId, finishedAt: report.finishedAt, vm, findings };
}

/** The description as `kubectl describe` lays one out: the VM's fields, then each finding that is not a PASS, then the passes counted. */
export function renderVmDescription(d: VmDescription): string {
  const { vm } = d;
  const field = (name: string, value: string | null): string[] => [`${name}:`, value === null ? '<none>' : t(value)];
  const lines = [
    formatColumns(
      [
        field('Instance', vm.instanceId),
        field('Hostname', vm.hostname),
        field('Address', vm.ip),
        field('Namespace', vm.namespace),
        field('Proxy', vm.proxyId),
        field('WorkloadEntry', vm.workloadEntry),
        field('Status', vm.status),
        field('Run', `${d.runId} (${d.finishedAt})`),
      ],
      1,
    ),
    'Findings:',
  ];
  const shown = d.findings.filter((f) => f.status !== 'PASS' && f.status !== 'SKIP');
  if (shown.length === 0) lines.push('  <none>: every control passed or did not apply');
  for (const f of shown) {
    lines.push(`  ${f.status} ${f.severity} ${f.control} (${f.subject.kind} ${t(f.subject.id)})`);
    lines.push(`    Message:      ${t(f.message)}`);
    for (const [key, value] of Object.entries(f.evidence))
      lines.push(`    ${`${t(key)}:`.padEnd(13)} ${t(typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 500)}`);
    if (f.remediation) lines.push(`    Remediation:  ${t(f.remediation)}`);
  }
  const passed = d.findings.filter((f) => f.status === 'PASS').map((f) => f.control);
  const skipped = d.findings.filter((f) => f.status === 'SKIP').map((f) => f.control);
  lines.push(`Passed:         ${passed.length === 0 ? '<none>' : [...new Set(passed)].join(', ')}`);
  if (skipped.length > 0) lines.push(`Did not apply:  ${[...new Set(skipped)].join(', ')}`);
  return `${lines.join('\n')}\n`;
}
