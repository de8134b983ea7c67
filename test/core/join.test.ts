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
      [
        workloadEntry('payments', 'payments-vm', '10.0.0.1'),
        workloadEntry('other', 'other-vm', '10.0.0.1'),
        workloadEntry('payments', 'payments-vm', '10.0.0.1', { network: 'net2' }),
      ],
      { 'istiod-a': [syncStatus('vm1.payments')] },
    );
    expect(vm).toMatchObject({ proxyName: 'vm1.payments', namespace: 'payments', proxyIp: '10.0.0.1', network: '', group: 'payments-vm' });
    expect(vm!.proxy.map((p) => p.replica)).toEqual(['istiod-a']);
    expect(vm!.workloadEntries.map((e) => `${e.metadata.namespace}/${e.metadata.name}`)).toEqual(['payments/payments-vm-10.0.0.1']);
  });

  it('finds a proxy on every replica that holds it (a proxy that moved)', () => {
    const [vm] = join([{ instanceId: 'i-0000000000000001', hostname: 'vm1' }], [], {
      'istiod-a': [syncStatus('vm1.payments')],
      'istiod-b': [syncStatus('vm1.payments')],
    });
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

/** Envoy's /server_info as a running sidecar answers it, with the node id istiod knows the proxy by. */
function serverInfo(ip: string, name: string): { name: string; content: string } {
  return {
    name: 'envoy-server-info',
    content: JSON.stringify({ state: 'LIVE', node: { id: `sidecar~${ip}~${name}~payments.svc.cluster.local` } }),
  };
}

describe('joinFleet: a VM says who it is, the mesh and SSM decide', () => {
  const stopped = { activeState: 'inactive', subState: 'dead', httpCode: '000', curlExit: '7' };

  it('contradicts a stopped VM whose claimed proxy istiod holds as connected', () => {
    const [vm] = join([{ instanceId: 'i-0000000000000001', hostname: 'intruder', ip: '10.0.0.5', ...stopped }], [], {
      'istiod-a': [syncStatus('intruder.payments')],
    });
    expect(vm!.contradictions).toEqual([
      { kind: 'state', message: 'its istio unit is inactive (dead), yet istiod holds intruder.payments as connected (istiod-a)' },
    ]);
  });

  it('contradicts a VM whose agent answers nothing, or whose Envoy says it is not connected, while "its" proxy is', () => {
    const syncz = { 'istiod-a': [syncStatus('a.payments'), syncStatus('b.payments')] };
    const [refused, unconnected] = join(
      [
        { instanceId: 'i-0000000000000001', hostname: 'a', ip: '10.0.0.1', httpCode: '000', curlExit: '7' },
        {
          instanceId: 'i-0000000000000002',
          hostname: 'b',
          ip: '10.0.0.2',
          sections: [{ name: 'envoy-stats', content: 'control_plane.connected_state: 0\nserver.state: 0' }],
        },
      ],
      [],
      syncz,
    );
    expect(refused!.contradictions.map((c) => c.message)).toEqual([
      "nothing answers on its agent's readiness port, yet istiod holds a.payments as connected (istiod-a)",
    ]);
    expect(unconnected!.contradictions.map((c) => c.message)).toEqual([
      'its Envoy reports no control-plane connection, yet istiod holds b.payments as connected (istiod-a)',
    ]);
  });

  it('contradicts a stopped VM whose claimed address has a live auto-registered entry', () => {
    const [vm] = join(
      [{ instanceId: 'i-0000000000000001', hostname: 'vm1', ip: '10.0.0.5', ...stopped }],
      [workloadEntry('payments', 'payments-vm', '10.0.0.5')],
    );
    expect(vm!.contradictions.map((c) => c.message)).toEqual([
      'its istio unit is inactive (dead), yet payments/payments-vm-10.0.0.5 says its proxy is connected',
    ]);
  });

  it('does not contradict a running VM that is not ready (503): a proxy whose update was rejected stays connected', () => {
    const [vm] = join(
      [{ instanceId: 'i-0000000000000001', hostname: 'vm1', httpCode: '503' }],
      [workloadEntry('payments', 'payments-vm', '10.0.0.1')],
      { 'istiod-a': [syncStatus('vm1.payments')] },
    );
    expect(vm!.contradictions).toEqual([]);
  });

  it("does not contradict a stopped VM whose proxy is gone from istiod, as a stopped VM's is", () => {
    const [vm] = join([{ instanceId: 'i-0000000000000001', hostname: 'vm1', ...stopped }]);
    expect(vm!.contradictions).toEqual([]);
  });

  it("contradicts a connected proxy at another address than SSM's, even one ISTIO_SVC_IP pins: the pin is the VM's word", () => {
    const [elsewhere, pinned, same] = join(
      [
        { instanceId: 'i-0000000000000001', hostname: 'a', ip: '10.0.0.5', sections: [serverInfo('10.0.0.99', 'a.payments')] },
        {
          instanceId: 'i-0000000000000002',
          hostname: 'b',
          ip: '10.0.0.6',
          ssmIp: '192.168.4.6',
          sections: [serverInfo('10.0.0.6', 'b.payments')],
        },
        { instanceId: 'i-0000000000000003', hostname: 'c', ip: '10.0.0.7', sections: [serverInfo('10.0.0.7', 'c.payments')] },
      ],
      [],
      { 'istiod-a': [syncStatus('a.payments'), syncStatus('b.payments'), syncStatus('c.payments')] },
    );
    expect(elsewhere!.contradictions).toEqual([
      { kind: 'address', message: 'the proxy a.payments is at 10.0.0.99, but SSM knows the VM at 10.0.0.5' },
    ]);
    expect(pinned!.contradictions).toEqual([
      {
        kind: 'address',
        message: 'the proxy b.payments is at 10.0.0.6, the address ISTIO_SVC_IP pins, but SSM knows the VM at 192.168.4.6',
      },
    ]);
    expect(same!.contradictions).toEqual([]);
  });

  it('takes the proxy name from the node id over the hostname the VM prints', () => {
    const [vm] = join(
      [{ instanceId: 'i-0000000000000001', hostname: 'intruder', sections: [serverInfo('10.0.0.1', 'vm1.payments')] }],
      [],
      {
        'istiod-a': [syncStatus('vm1.payments'), syncStatus('intruder.payments')],
      },
    );
    expect(vm).toMatchObject({ proxyName: 'vm1.payments', contradictions: [] });
  });

  it('names every claimant of one proxy on each of them, however many', () => {
    const vms = Array.from({ length: 7 }, (_, i) => ({ instanceId: `i-000000000000000${i}`, hostname: 'twin', ip: `10.0.0.${i + 10}` }));
    const records = join(vms, [], { 'istiod-a': [syncStatus('twin.payments')] });
    for (const record of records) {
      expect(record.ambiguities).toEqual([
        'proxy name twin.payments is claimed by i-0000000000000000, i-0000000000000001, i-0000000000000002, i-0000000000000003, i-0000000000000004 and 2 more',
      ]);
    }
  });
});
