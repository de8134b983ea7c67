import type { Finding, Report, VmSummary } from '../report.ts';
import { namespaceOfSubjectId } from '../waivers.ts';

/** Where a finding stands: the VM it is about (its own, its proxy's or its WorkloadEntry's) and the namespace. */
export interface FindingPlace {
  vm: VmSummary | undefined;
  namespace: string | undefined;
}

/**
 * Places every finding of a report, with keyed lookups so that a large fleet is placed in one pass. A
 * proxy or WorkloadEntry no VM claims has no VM; its namespace still comes from its id.
 */
export function findingPlacer(report: Report): (finding: Finding) => FindingPlace {
  const byInstance = new Map<string, VmSummary>();
  const byProxy = new Map<string, VmSummary>();
  const byEntry = new Map<string, VmSummary>();
  for (const vm of report.vms) {
    byInstance.set(vm.instanceId, vm);
    // The first VM claiming a proxy or entry wins; a conflict between VMs is a finding of its own.
    if (vm.proxyId !== null && !byProxy.has(vm.proxyId)) byProxy.set(vm.proxyId, vm);
    if (vm.workloadEntry !== null && !byEntry.has(vm.workloadEntry)) byEntry.set(vm.workloadEntry, vm);
  }
  const lookup = { vm: byInstance, proxy: byProxy, workloadentry: byEntry, fleet: new Map<string, VmSummary>() } as const;
  return (finding) => {
    const vm = lookup[finding.subject.kind].get(finding.subject.id);
    return { vm, namespace: vm?.namespace ?? namespaceOfSubjectId(finding.subject.kind, finding.subject.id) };
  };
}
