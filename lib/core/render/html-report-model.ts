import { appendTo } from '../multimap.ts';
import { SEVERITIES, type Finding, type FindingStatus, type Report, type Severity, type SubjectKind, type VmSummary } from '../report.ts';
import { findingPlacer } from './finding-subject.ts';

/**
 * What report.html shows, arranged before any markup is written: the VM table's rows, and one drill-down
 * per VM (its own findings and those of its proxy and WorkloadEntry) or per subject no VM claims.
 */
export interface HtmlReportModel {
  rows: VmRow[];
  /** Drill-downs of VMs, in the order of the rows, then of proxies, WorkloadEntries and the fleet. */
  drillDowns: DrillDown[];
  namespaces: string[];
  /** Controls with a finding listed in some drill-down, in the order of the summary. */
  listedControls: string[];
  /** How to fix each of those controls (a control's findings share its remediation). */
  remediations: Map<string, string>;
}

export interface VmRow {
  vm: VmSummary;
  /** The id of the VM's drill-down; undefined when it has nothing to show. */
  anchor: string | undefined;
  /** Findings that are a cause in their own right (consequences are folded under them). */
  causes: Finding[];
  /** How many findings were not evaluated because of one of the causes. */
  consequences: number;
}

export interface DrillDown {
  anchor: string;
  kind: SubjectKind;
  /** The subject's id (instance id, `namespace/name`, proxy name, `fleet`). */
  id: string;
  vm: VmSummary | undefined;
  findings: ListedFinding[];
}

/** A finding as a drill-down lists it: with the findings that could not be evaluated because of it. */
export interface ListedFinding {
  finding: Finding;
  consequences: Finding[];
}

/** Findings a reader has to act on or know of; SKIP means "does not apply" and is only counted. */
const LISTED: ReadonlySet<FindingStatus> = new Set(['FAIL', 'ERROR', 'WAIVED']);
/** What to read first in a drill-down. */
const STATUS_ORDER: Record<string, number> = { FAIL: 0, ERROR: 1, WAIVED: 2 };
/** Problems first: a reader opens the report to see what is wrong. */
const VM_ORDER: Record<VmSummary['status'], number> = { NON_COMPLIANT: 0, UNKNOWN: 1, COMPLIANT: 2 };
/**
 * How a control says that it could not evaluate a subject because another control failed on it: its
 * message names that control, `(see COLLECT-01)` (lib/core/controls/control.ts, whyNoOutput).
 */
const SEE_CONTROL = /\(see (?<control>[A-Z]+-\d{2})\)/;

export function buildHtmlReportModel(report: Report): HtmlReportModel {
  const place = findingPlacer(report);
  const byVm = new Map<string, Finding[]>();
  const bySubject = new Map<string, Finding[]>();
  const listedControls = new Set<string>();
  const remediations = new Map<string, string>();
  for (const finding of report.findings) {
    if (!LISTED.has(finding.status)) continue;
    listedControls.add(finding.control);
    if (!remediations.has(finding.control)) remediations.set(finding.control, finding.remediation);
    const { vm } = place(finding);
    if (vm) appendTo(byVm, vm.instanceId, finding);
    else appendTo(bySubject, `${finding.subject.kind}\u0000${finding.subject.id}`, finding);
  }
  const vms = report.vms
    .map((vm, index) => ({ vm, index }))
    .sort((a, b) => VM_ORDER[a.vm.status] - VM_ORDER[b.vm.status] || a.index - b.index);
  const rows: VmRow[] = [];
  const drillDowns: DrillDown[] = [];
  vms.forEach(({ vm }, index) => {
    const findings = foldConsequences(byVm.get(vm.instanceId) ?? []);
    const anchor = findings.length > 0 ? `vm-${index}` : undefined;
    rows.push({
      vm,
      anchor,
      causes: findings.map((f) => f.finding),
      consequences: findings.reduce((n, f) => n + f.consequences.length, 0),
    });
    if (anchor) drillDowns.push({ anchor, kind: 'vm', id: vm.instanceId, vm, findings });
  });
  const KIND_ORDER: Record<SubjectKind, number> = { vm: 0, proxy: 1, workloadentry: 2, fleet: 3 };
  [...bySubject.values()]
    .sort((a, b) => KIND_ORDER[a[0]!.subject.kind] - KIND_ORDER[b[0]!.subject.kind])
    .forEach((findings, index) =>
      drillDowns.push({
        anchor: `subject-${index}`,
        kind: findings[0]!.subject.kind,
        id: findings[0]!.subject.id,
        vm: undefined,
        findings: foldConsequences(findings),
      }),
    );
  const controlOrder = Object.keys(report.summary.byControl);
  return {
    rows,
    drillDowns,
    namespaces: [...new Set(report.vms.map((vm) => vm.namespace).filter((ns): ns is string => ns !== null))].sort(),
    listedControls: [...listedControls].sort((a, b) => rank(controlOrder, a) - rank(controlOrder, b)),
    remediations,
  };
}

/**
 * Puts each finding that only says another control failed (`(see X)`, ERROR) under that control's finding
 * about the same VM, so that its remediation, which does not apply, is not offered; chains end at the
 * first cause. Without such a cause listed, the finding stands on its own.
 */
export function foldConsequences(findings: readonly Finding[]): ListedFinding[] {
  const sorted = [...findings].sort(
    (a, b) => STATUS_ORDER[a.status]! - STATUS_ORDER[b.status]! || SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity),
  );
  const causeOf = new Map<Finding, Finding>();
  const byControl = new Map<string, Finding>();
  for (const f of sorted) if (!byControl.has(f.control)) byControl.set(f.control, f);
  for (const f of sorted) {
    const named = f.status === 'ERROR' ? SEE_CONTROL.exec(f.message)?.groups?.control : undefined;
    const cause = named === undefined || named === f.control ? undefined : byControl.get(named);
    if (cause) causeOf.set(f, cause);
  }
  // The first cause of a chain; a finding caught in a cycle of causes has none outside it and stands alone.
  const root = (f: Finding): Finding => {
    const seen = new Set<Finding>([f]);
    let at = f;
    for (let next = causeOf.get(at); next !== undefined; next = causeOf.get(at)) {
      if (seen.has(next)) return f;
      seen.add(next);
      at = next;
    }
    return at;
  };
  const listed = new Map<Finding, ListedFinding>();
  const roots = sorted.map(root);
  sorted.forEach((f, i) => {
    if (roots[i] === f) listed.set(f, { finding: f, consequences: [] });
  });
  sorted.forEach((f, i) => {
    if (roots[i] !== f) listed.get(roots[i]!)!.consequences.push(f);
  });
  return [...listed.values()];
}

/** The severities of findings that FAIL or ERROR (waived ones are accepted), most severe first. */
export function severitiesOf(findings: readonly Finding[]): Severity[] {
  return SEVERITIES.filter((s) => findings.some((f) => f.severity === s && f.status !== 'WAIVED'));
}

function rank(order: readonly string[], id: string): number {
  const i = order.indexOf(id);
  return i === -1 ? order.length : i;
}
