import type { Finding, Report, VmSummary } from './report.ts';

/**
 * The findings about each VM of a report: its own, and the mesh's about its proxy and its WorkloadEntry.
 * One pass over the findings, every lookup keyed, so it serves every VM of a large fleet at once.
 */
export function findingsByVm(report: Report): Map<string, Finding[]> {
  const byVm = new Map<string, Finding[]>(report.vms.map((vm) => [vm.instanceId, []]));
  const byProxy = new Map<string, string[]>();
  const byEntry = new Map<string, string[]>();
  const index = (map: Map<string, string[]>, key: string | null, vm: VmSummary): void => {
    if (key === null) return;
    const list = map.get(key) ?? [];
    list.push(vm.instanceId);
    map.set(key, list);
  };
  for (const vm of report.vms) {
    index(byProxy, vm.proxyId, vm);
    index(byEntry, vm.workloadEntry, vm);
  }
  for (const f of report.findings) {
    const owners =
      f.subject.kind === 'vm'
        ? [f.subject.id]
        : f.subject.kind === 'proxy'
          ? byProxy.get(f.subject.id)
          : f.subject.kind === 'workloadentry'
            ? byEntry.get(f.subject.id)
            : undefined;
    for (const owner of owners ?? []) byVm.get(owner)?.push(f);
  }
  return byVm;
}
