import type { VmRecord } from '../join.ts';
import type { WorkloadEntry } from '../mesh-view.ts';
import type { Control } from './control.ts';
import { error, fail, pass, skip, toFinding, vmControl } from './control.ts';

const AUTO_REGISTRATION_GROUP = 'istio.io/autoRegistrationGroup';

/** The name istiod gives an auto-registered entry: `<group>-<ip with : as ->[-<network>]`. */
export function autoRegisteredName(group: string, ip: string, network: string): string {
  return `${group}-${ip.replaceAll(':', '-')}${network ? `-${network}` : ''}`;
}

/** REG-01: a WorkloadEntry exists for the VM (namespace, address and network). */
export const reg01 = vmControl(
  {
    id: 'REG-01',
    severity: 'HIGH',
    title: 'WorkloadEntry registered',
    remediation:
      'Run `kubectl get workloadentries -n <namespace> -o wide`; with auto-registration check that the WorkloadGroup named by ' +
      'ISTIO_META_AUTO_REGISTER_GROUP exists and that the proxy is connected (`istioctl proxy-status`).',
  },
  (vm, _snapshot, ctx) => {
    if (!ctx.mesh.available || ctx.mesh.missingParts.includes('cluster/workloadentries.json')) {
      return error('the bundle holds no WorkloadEntries (cluster/workloadentries.json is missing)');
    }
    if (!vm.namespace || !vm.proxyIp) return error('the VM reported no ISTIO_NAMESPACE or no address to look its WorkloadEntry up by');
    const evidence = { namespace: vm.namespace, address: vm.proxyIp, network: vm.network };
    if (vm.workloadEntries.length === 0) {
      return fail(`no WorkloadEntry in ${vm.namespace} has address ${vm.proxyIp}${vm.network ? ` on network ${vm.network}` : ''}`, evidence);
    }
    const names = vm.workloadEntries.map((we) => we.metadata.name);
    if (vm.group) {
      const expected = autoRegisteredName(vm.group, vm.proxyIp, vm.network);
      if (!names.includes(expected)) {
        return fail(`the VM auto-registers into ${vm.group} but no entry is named ${expected} (found ${names.join(', ')})`, { ...evidence, workloadEntries: names });
      }
    }
    return pass(`registered as ${vm.namespace}/${names.join(', ')}`, { ...evidence, workloadEntries: names });
  },
);

const REG_02 = {
  id: 'REG-02',
  severity: 'HIGH',
  title: 'No orphan WorkloadEntry',
  subject: 'workloadentry',
  remediation:
    'Confirm the machine is gone (`aws ec2 describe-instances`, Systems Manager Fleet Manager), then ' +
    '`kubectl delete workloadentry -n <namespace> <name>`; a live istiod connection recreates a valid entry.',
} as const satisfies Omit<Control, 'evaluate'>;

/** REG-02: every auto-registered WorkloadEntry belongs to a VM of the inventory that answered. */
export const reg02: Control = {
  ...REG_02,
  evaluate: (ctx) => {
    if (!ctx.mesh.available || ctx.mesh.missingParts.includes('cluster/workloadentries.json')) {
      return [toFinding({ ...REG_02, subject: 'fleet' }, 'fleet', error('the bundle holds no WorkloadEntries (cluster/workloadentries.json is missing)'))];
    }
    const invalid = ctx.mesh.invalid
      .filter((o) => o.kind === 'WorkloadEntry')
      .map((o) => toFinding(REG_02, o.ref, error(`the WorkloadEntry could not be read: ${o.reason}`)));
    return [...ctx.mesh.workloadEntries.map((we) => toFinding(REG_02, `${we.metadata.namespace}/${we.metadata.name}`, decideOwner(we, ctx.vms))), ...invalid];
  },
};

function decideOwner(we: WorkloadEntry, vms: VmRecord[]): ReturnType<typeof pass> {
  const group = we.metadata.annotations?.[AUTO_REGISTRATION_GROUP];
  const evidence = { address: we.spec.address, network: we.spec.network ?? '', group: group ?? null };
  if (!group) return skip('not auto-registered: a hand-made entry may describe a machine outside the inventory', evidence);
  const owners = vms.filter(
    (vm) => vm.snapshot?.readable && vm.namespace === we.metadata.namespace && vm.proxyIp === we.spec.address && vm.network === (we.spec.network ?? ''),
  );
  if (owners.length > 0) return pass(`belongs to ${owners.map((vm) => vm.instanceId).join(', ')}`, { ...evidence, instances: owners.map((vm) => vm.instanceId) });
  const silent = vms.filter((vm) => !vm.snapshot?.readable && vm.inventory?.IPAddress === we.spec.address);
  if (silent.length > 0) {
    return error(`its address is that of ${silent.map((vm) => vm.instanceId).join(', ')}, which did not answer: ownership cannot be confirmed`, {
      ...evidence,
      instances: silent.map((vm) => vm.instanceId),
    });
  }
  return fail(`orphan: no VM of the inventory has address ${we.spec.address}${we.spec.network ? ` on network ${we.spec.network}` : ''}`, evidence);
}
