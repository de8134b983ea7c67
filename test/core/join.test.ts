import { describe, expect, it } from 'vitest';
import { collectVm } from '../../lib/core/collected-vm.ts';
import { joinFleet } from '../../lib/core/join.ts';
import { buildMeshView } from '../../lib/core/mesh-view.ts';
import { buildBundle, syncStatus, workloadEntry, type TestVm } from '../support/bundle-builder.ts';

function join(vms: TestVm[], entries: unknown[] = [], syncz: Record<string, unknown[]> = { 'istiod-a': [] }) {
  const bundle = buildBundle({ vms, entries, syncz });
  const collected = new Map(Object.entries(bundle.invocations).map(([id, inv]) => [id, collectVm(inv)]));
  return joinFleet(bundle.inventory.InstanceInformationList, collected, buildMeshView(bundle.cluster));
}

describe('joinFleet', () => {
  it('joins a VM to its proxy by <hostname>.<ISTIO_NAMESPACE> and to its entry by namespace + address + network', () => {
    const [vm] = join(
      [{ instanceId: 'i-0000000000000001', hostname: 'vm1', ip: '10.0.0.1' }],
      [workloadEntry('payments', 'payments-vm', '10.0.0.1'), workloadEntry('other', 'other-vm', '10.0.0.1'), workloadEntry('payments', 'payments-vm', '10.0.0.1', { network: 'net2' })],
      { 'istiod-a': [syncStatus('vm1.payments')] },
    );
    expect(vm).toMatchObject({ proxyName: 'vm1.payments', namespace: 'payments', proxyIp: '10.0.0.1', network: '', group: 'payments-vm' });
    expect(vm!.proxy.map((p) => p.replica)).toEqual(['istiod-a']);
    expect(vm!.workloadEntries.map((e) => `${e.metadata.namespace}/${e.metadata.name}`)).toEqual(['payments/payments-vm-10.0.0.1']);
  });

  it('finds a proxy on every replica that holds it (a proxy that moved)', () => {
    const [vm] = join([{ instanceId: 'i-0000000000000001', hostname: 'vm1' }], [], { 'istiod-a': [syncStatus('vm1.payments')], 'istiod-b': [syncStatus('vm1.payments')] });
    expect(vm!.proxy.map((p) => p.replica)).toEqual(['istiod-a', 'istiod-b']);
  });

  it('records two VMs claiming one proxy name or one address as ambiguities on both, never picking one', () => {
    const records = join([
      { instanceId: 'i-0000000000000001', hostname: 'twin', ip: '10.0.0.1' },
      { instanceId: 'i-0000000000000002', hostname: 'twin', ip: '10.0.0.1' },
      { instanceId: 'i-0000000000000003', hostname: 'solo', ip: '10.0.0.3' },
    ]);
    expect(records[0]!.ambiguities).toEqual([
      'proxy name twin.payments is claimed by i-0000000000000001, i-0000000000000002',
      'address 10.0.0.1 in payments is claimed by i-0000000000000001, i-0000000000000002',
    ]);
    expect(records[1]!.ambiguities).toHaveLength(2);
    expect(records[2]!.ambiguities).toEqual([]);
  });

  it('keeps a VM without output, with nothing joined', () => {
    const [vm] = join([{ instanceId: 'i-0000000000000001', status: 'Failed', statusDetails: 'Undeliverable' }]);
    expect(vm).toMatchObject({ instanceId: 'i-0000000000000001', proxyName: undefined, proxy: [], workloadEntries: [] });
  });
});
