import { CONTROLS } from './controls/catalogue.ts';
import { DEFAULT_THRESHOLDS, type AuditContext, type Control, type Thresholds } from './controls/control.ts';
import { collectVm, type CollectedVm } from './collected-vm.ts';
import { SnapshotPool } from './snapshot-pool.ts';
import { boundFindings, compactFindings, compactPass } from './compact-findings.ts';
import type { ClusterEvidence, EvidenceBundle, Inventory, Manifest } from './evidence-bundle.ts';
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
import { applyWaivers, namespaceOfSubjectId, type Waiver } from './waivers.ts';
import { appendTo } from './multimap.ts';
import { versionSpread } from './version-spread.ts';

export interface AnalyzeOptions {
  thresholds?: Partial<Thresholds>;
  controls?: readonly Control[];
  /** Accepted FAILs (`--waivers`), judged valid or expired at the evidence's time. */
  waivers?: readonly Waiver[];
}

/** What the analysis reads: a bundle whose invocations were each reduced to what the controls need. */
export interface CollectedEvidence {
  manifest: Manifest;
  inventory: Inventory;
  /** instance id → its invocation without the raw output, and the snapshot parsed from it. */
  vms: ReadonlyMap<string, CollectedVm>;
  cluster?: ClusterEvidence;
}

/**
 * Analyzes an evidence bundle into a report: parse each VM's output, join VM ↔ proxy ↔ WorkloadEntry,
 * evaluate every control. Pure and deterministic: "now" is the bundle's finish time, so replaying a
 * stored bundle later gives the same report.
 */
export function analyzeBundle(bundle: EvidenceBundle, options: AnalyzeOptions = {}): Report {
  const vms = new Map<string, CollectedVm>();
  const pool = new SnapshotPool();
  for (const [id, invocation] of Object.entries(bundle.invocations)) vms.set(id, collectVm(invocation, pool));
  return analyzeCollected(
    { manifest: bundle.manifest, inventory: bundle.inventory, vms, ...(bundle.cluster ? { cluster: bundle.cluster } : {}) },
    options,
  );
}

/**
 * Analyzes evidence whose outputs were already parsed (collectVm, as the bundle is read). Every step is
 * one pass or a keyed lookup: the cost per VM is the same at 10,000 VMs as at 50.
 */
export function analyzeCollected(evidence: CollectedEvidence, options: AnalyzeOptions = {}): Report {
  const { manifest } = evidence;
  const finishedAt = manifest.finishedAt ?? manifest.startedAt;
  const mesh = buildMeshView(evidence.cluster, manifest.clusterNotRead);
  const vms = joinFleet(evidence.inventory.InstanceInformationList, evidence.vms, mesh);
  const meshRoots = new Map(
    Object.entries(evidence.cluster?.rootCa ?? {}).map(([ns, cm]) => [
      ns,
      parsePemCertificates(cm.data?.['root-cert.pem'] ?? '').certificates,
    ]),
  );
  const ctx: AuditContext = {
    now: new Date(finishedAt),
    vms,
    mesh,
    meshRoots,
    thresholds: { ...DEFAULT_THRESHOLDS, ...options.thresholds },
  };
  const controls = options.controls ?? CONTROLS;
  const evaluated = controls.flatMap((control) =>
    boundFindings(control.evaluate(ctx))
      .sort((a, b) => compareText(a.subject.id, b.subject.id))
      .map(compactPass),
  );
  const vmNamespaces = new Map(vms.map((vm) => [vm.instanceId, vm.namespace]));
  const waived = applyWaivers(evaluated, options.waivers ?? [], ctx.now, new Set(controls.map((c) => c.id)), (subject) =>
    subject.kind === 'vm' ? vmNamespaces.get(subject.id) : namespaceOfSubjectId(subject.kind, subject.id),
  );
  const findings = compactFindings(waived.findings);
  const tally = tallyFindings(findings, controls);
  const vmSummaries = vms.map((vm) => summarizeVm(vm, tally.byVm.get(vm.instanceId) ?? []));
  const spread = versionSpread(mesh);
  const count = (status: VmStatus): number => vmSummaries.reduce((n, v) => n + (v.status === status ? 1 : 0), 0);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runId: manifest.runId,
    startedAt: manifest.startedAt,
    finishedAt,
    source: manifest.source,
    summary: {
      vms: vmSummaries.length,
      compliant: count('COMPLIANT'),
      nonCompliant: count('NON_COMPLIANT'),
      unknown: count('UNKNOWN'),
      byControl: Object.fromEntries(controls.map((c) => [c.id, { severity: c.severity, title: c.title, ...tally.byControl.get(c.id)! }])),
      bySeverity: tally.failsBySeverity,
      ...(spread ? { istioVersions: spread } : {}),
    },
    vms: vmSummaries,
    findings,
    waivers: waived.waivers,
  };
}

/** The counts the summary needs and each VM's own findings, in one pass over the findings. */
function tallyFindings(findings: readonly Finding[], controls: readonly Control[]) {
  const byControl = new Map<string, StatusCounts>(controls.map((c) => [c.id, { PASS: 0, FAIL: 0, ERROR: 0, SKIP: 0, WAIVED: 0 }]));
  const failsBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const byVm = new Map<string, Finding[]>();
  for (const f of findings) {
    const counts = byControl.get(f.control);
    if (counts) counts[f.status]++;
    if (f.status === 'FAIL') failsBySeverity[f.severity]++;
    if (f.subject.kind === 'vm') appendTo(byVm, f.subject.id, f);
  }
  return { byControl, failsBySeverity, byVm };
}

/** A VM is COMPLIANT only when it was collected and nothing about it failed or could not be evaluated. */
export function vmStatus(findingsOfVm: Finding[]): VmStatus {
  const collected = findingsOfVm.find((f) => f.control === 'COLLECT-01');
  if (!collected || collected.status !== 'PASS') return 'UNKNOWN';
  if (findingsOfVm.some((f) => f.status === 'FAIL')) return 'NON_COMPLIANT';
  if (findingsOfVm.some((f) => f.status === 'ERROR')) return 'UNKNOWN';
  return 'COMPLIANT';
}

/** A VM's row of the report, from its own findings. */
function summarizeVm(vm: VmRecord, own: Finding[]): VmSummary {
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

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
