import { CONTROLS } from './controls/catalogue.ts';
import { DEFAULT_THRESHOLDS, type AuditContext, type Control, type Thresholds } from './controls/control.ts';
import type { EvidenceBundle } from './evidence-bundle.ts';
import { joinFleet, type VmRecord } from './join.ts';
import { buildMeshView } from './mesh-view.ts';
import { parsePemCertificates } from './certificates/pem.ts';
import {
  REPORT_SCHEMA_VERSION,
  SEVERITIES,
  type Finding,
  type Report,
  type Severity,
  type StatusCounts,
  type VmStatus,
  type VmSummary,
} from './report.ts';
import { parseVmSnapshot, type VmSnapshot } from './vm-snapshot.ts';
import { applyWaivers, namespaceOfSubjectId, type Waiver } from './waivers.ts';

export interface AnalyzeOptions {
  thresholds?: Partial<Thresholds>;
  controls?: readonly Control[];
  /** Accepted FAILs (`--waivers`), judged valid or expired at the evidence's time. */
  waivers?: readonly Waiver[];
}

/**
 * Analyzes an evidence bundle into a report: parse each VM's output, join VM ↔ proxy ↔ WorkloadEntry,
 * evaluate every control. Pure and deterministic: "now" is the bundle's finish time, so replaying a
 * stored bundle later gives the same report.
 */
export function analyzeBundle(bundle: EvidenceBundle, options: AnalyzeOptions = {}): Report {
  const finishedAt = bundle.manifest.finishedAt ?? bundle.manifest.startedAt;
  const snapshots = new Map<string, VmSnapshot>();
  for (const [id, inv] of Object.entries(bundle.invocations)) {
    if (inv.Status === 'Success' && inv.StandardOutputContent !== undefined) snapshots.set(id, parseVmSnapshot(inv.StandardOutputContent));
  }
  const mesh = buildMeshView(bundle.cluster);
  const vms = joinFleet(bundle.inventory.InstanceInformationList, bundle.invocations, snapshots, mesh);
  const meshRoots = new Map(
    Object.entries(bundle.cluster?.rootCa ?? {}).map(([ns, cm]) => [ns, parsePemCertificates(cm.data?.['root-cert.pem'] ?? '').certificates]),
  );
  const ctx: AuditContext = { now: new Date(finishedAt), vms, mesh, meshRoots, thresholds: { ...DEFAULT_THRESHOLDS, ...options.thresholds } };
  const controls = options.controls ?? CONTROLS;
  const evaluated = controls.flatMap((control) => control.evaluate(ctx).sort((a, b) => compareText(a.subject.id, b.subject.id)));
  const vmNamespaces = new Map(vms.map((vm) => [vm.instanceId, vm.namespace]));
  const { findings, waivers } = applyWaivers(evaluated, options.waivers ?? [], ctx.now, new Set(controls.map((c) => c.id)), (subject) =>
    subject.kind === 'vm' ? vmNamespaces.get(subject.id) : namespaceOfSubjectId(subject.kind, subject.id),
  );
  const vmSummaries = vms.map((vm) => summarizeVm(vm, findings));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runId: bundle.manifest.runId,
    startedAt: bundle.manifest.startedAt,
    finishedAt,
    source: bundle.manifest.source,
    summary: {
      vms: vmSummaries.length,
      compliant: vmSummaries.filter((v) => v.status === 'COMPLIANT').length,
      nonCompliant: vmSummaries.filter((v) => v.status === 'NON_COMPLIANT').length,
      unknown: vmSummaries.filter((v) => v.status === 'UNKNOWN').length,
      byControl: Object.fromEntries(
        controls.map((c) => [c.id, { severity: c.severity, title: c.title, ...countStatuses(findings.filter((f) => f.control === c.id)) }]),
      ),
      bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.status === 'FAIL' && f.severity === s).length])) as Record<Severity, number>,
    },
    vms: vmSummaries,
    findings,
    waivers,
  };
}

/** A VM is COMPLIANT only when it was collected and nothing about it failed or could not be evaluated. */
export function vmStatus(findingsOfVm: Finding[]): VmStatus {
  const collected = findingsOfVm.find((f) => f.control === 'COLLECT-01');
  if (!collected || collected.status !== 'PASS') return 'UNKNOWN';
  if (findingsOfVm.some((f) => f.status === 'FAIL')) return 'NON_COMPLIANT';
  if (findingsOfVm.some((f) => f.status === 'ERROR')) return 'UNKNOWN';
  return 'COMPLIANT';
}

function summarizeVm(vm: VmRecord, findings: Finding[]): VmSummary {
  const own = findings.filter((f) => f.subject.kind === 'vm' && f.subject.id === vm.instanceId);
  const entry = vm.workloadEntries[0];
  return {
    instanceId: vm.instanceId,
    hostname: vm.hostname ?? vm.inventory?.ComputerName ?? null,
    ip: vm.proxyIp ?? vm.inventory?.IPAddress ?? null,
    proxyId: vm.proxyName ?? null,
    namespace: vm.namespace ?? null,
    workloadEntry: entry ? `${entry.metadata.namespace}/${entry.metadata.name}` : null,
    status: vmStatus(own),
  };
}

function countStatuses(findings: Finding[]): StatusCounts {
  const counts: StatusCounts = { PASS: 0, FAIL: 0, ERROR: 0, SKIP: 0, WAIVED: 0 };
  for (const f of findings) counts[f.status]++;
  return counts;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
