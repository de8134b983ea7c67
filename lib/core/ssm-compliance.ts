import type { Finding, Report, Severity } from './report.ts';
import { findingsByVm } from './vm-findings.ts';

/**
 * The audit as SSM Compliance items (PutComplianceItems), so the fleet's state shows in Systems Manager
 * next to patch and association compliance. One compliance type; per VM one item per control that has
 * a finding about the VM (its own, or the mesh's about its proxy and WorkloadEntry).
 */
export const SSM_COMPLIANCE_TYPE = 'Custom:IstioMeshAudit';

export type SsmComplianceStatus = 'COMPLIANT' | 'NON_COMPLIANT';

export interface SsmComplianceItem {
  Id: string;
  Title: string;
  Severity: Severity;
  Status: SsmComplianceStatus;
  Details: Record<string, string>;
}

/** Everything one PutComplianceItems call carries for a VM. The call replaces the VM's list, so every item is in it. */
export interface SsmComplianceRecord {
  instanceId: string;
  executionId: string;
  executionTime: string;
  items: SsmComplianceItem[];
}

// The API's limits (SSM API reference, ComplianceItemEntry and PutComplianceItems).
const TITLE_LIMIT = 500;
const DETAIL_VALUE_LIMIT = 1024;
const ITEMS_LIMIT = 10_000;
const EXECUTION_ID_LIMIT = 100;

/** The order in which a control's findings about one VM decide its item: the worst wins. */
const WORST_FIRST: Record<Finding['status'], number> = { FAIL: 0, ERROR: 1, WAIVED: 2, PASS: 3, SKIP: 4 };

/**
 * Maps a report to compliance items, VM by VM: FAIL → NON_COMPLIANT; ERROR → NON_COMPLIANT with the reason
 * it could not be evaluated; WAIVED → COMPLIANT with the waiver; PASS → COMPLIANT; SKIP → COMPLIANT, marked
 * not applicable. Only VMs that SSM knows (`i-`, `mi-` ids) are listed.
 */
export function ssmComplianceRecords(report: Report): SsmComplianceRecord[] {
  const titles = new Map(Object.entries(report.summary.byControl).map(([id, c]) => [id, c.title]));
  const byVm = findingsByVm(report);
  const records: SsmComplianceRecord[] = [];
  for (const vm of report.vms) {
    const perControl = new Map<string, Finding>();
    for (const f of byVm.get(vm.instanceId) ?? []) {
      const held = perControl.get(f.control);
      if (!held || WORST_FIRST[f.status] < WORST_FIRST[held.status]) perControl.set(f.control, f);
    }
    const items = [...perControl.values()].slice(0, ITEMS_LIMIT).map((f) => itemOf(f, titles.get(f.control) ?? f.control));
    records.push({
      instanceId: vm.instanceId,
      executionId: report.runId.slice(0, EXECUTION_ID_LIMIT),
      executionTime: report.finishedAt,
      items,
    });
  }
  return records;
}

function itemOf(f: Finding, title: string): SsmComplianceItem {
  const details: Record<string, string> = { Status: f.status, Subject: `${f.subject.kind} ${f.subject.id}`, Message: f.message };
  if (f.status === 'WAIVED') {
    const waiver = f.evidence.waiver as { justification?: string; owner?: string; expires?: string } | undefined;
    details.Waiver = `${waiver?.justification ?? ''} (owner ${waiver?.owner ?? 'unknown'}, expires ${waiver?.expires ?? 'unknown'})`;
  }
  if (f.status === 'ERROR') details.Reason = `could not be evaluated: ${f.message}`;
  if (f.status === 'SKIP') details.Applicable = 'no';
  return {
    Id: f.control,
    Title: title.slice(0, TITLE_LIMIT),
    Severity: f.severity,
    Status: f.status === 'FAIL' || f.status === 'ERROR' ? 'NON_COMPLIANT' : 'COMPLIANT',
    Details: Object.fromEntries(
      Object.entries(details).map(([k, v]) => [k, v.length > DETAIL_VALUE_LIMIT ? `${v.slice(0, DETAIL_VALUE_LIMIT - 1)}…` : v]),
    ),
  };
}
