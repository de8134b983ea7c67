import type { Finding, Report, VmSummary } from '../report.ts';
import { namespaceOfSubjectId } from '../waivers.ts';

/** Where a finding stands: the VM it is about (its own, its proxy's or its WorkloadEntry's) and the namespace. */
export interface FindingPlace {
  vm: VmSummary | undefined;
  namespace: string | undefined;
}

/**
 * Places every finding of a report, with keyed lookups so that a large fleet is placed in one pass. A
 * proxy or WorkloadEntry no VM claims has no VM; nor has one two VMs claim, since a VM's word is no proof
 * that it is the one (the conflict is a finding of its own). Its namespace still comes from its id.
 */
export function findingPlacer(report: Report): (finding: Finding) => FindingPlace {
  const byInstance = new Map<string, VmSummary>();
  const byProxy = new Map<string, VmSummary | null>();
  const byEntry = new Map<string, VmSummary | null>();
  const claim = (claims: Map<string, VmSummary | null>, id: string | null, vm: VmSummary): void => {
    if (id !== null) claims.set(id, claims.has(id) ? null : vm);
  };
  for (const vm of report.vms) {
    byInstance.set(vm.instanceId, vm);
    claim(byProxy, vm.proxyId, vm);
    claim(byEntry, vm.workloadEntry, vm);
  }
  const lookup = { vm: byInstance, proxy: byProxy, workloadentry: byEntry, fleet: new Map<string, VmSummary>() } as const;
  return (finding) => {
    const vm = lookup[finding.subject.kind].get(finding.subject.id) ?? undefined;
    return { vm, namespace: vm?.namespace ?? namespaceOfSubjectId(finding.subject.kind, finding.subject.id) };
  };
}
