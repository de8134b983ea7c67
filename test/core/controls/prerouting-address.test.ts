import { describe, expect, it } from 'vitest';
import { buildBundle, workloadEntry, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';
import { fixture } from '../../support/fixtures.ts';

const ID = 'i-0000000000000001';
const ENV = ["ISTIO_INBOUND_PORTS='*'", "ISTIO_LOCAL_EXCLUDE_PORTS='22,15090,15021,15020'", "ISTIO_META_DNS_CAPTURE='true'"];
const withRules = (rules: string, env: string[] = ENV): TestVm => ({
  instanceId: ID,
  env,
  sections: [{ name: 'iptables-save', content: rules }],
});
const net06 = (v: TestVm) => findingsOf(buildBundle({ vms: [v] }), 'NET-06')[ID]!;

describe('NET-06: inbound capture first in PREROUTING', () => {
  it("fails when Docker's jump stands before ISTIO_INBOUND, naming the rule", () => {
    const finding = net06(withRules(fixture('iptables/vm-docker-before-istio.txt')));
    expect(finding.status).toBe('FAIL');
    expect(finding.message).toContain('-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER');
  });

  it('passes when ISTIO_INBOUND comes first, or when nothing rewrites TCP', () => {
    expect(net06(withRules(fixture('iptables/vm-docker-after-istio.txt'))).status).toBe('PASS');
    expect(net06(withRules(fixture('iptables/vm-nft-dns-capture.txt'))).status).toBe('PASS');
  });

  it('ignores a UDP-only rule ahead, and catches a DNAT written in PREROUTING itself', () => {
    const base = fixture('iptables/vm-nft-dns-capture.txt');
    const udp = base.replace(
      '-A PREROUTING -p tcp -j ISTIO_INBOUND',
      '-A PREROUTING -p udp -m udp --dport 5353 -j DNAT --to-destination 10.0.0.9:53\n-A PREROUTING -p tcp -j ISTIO_INBOUND',
    );
    expect(net06(withRules(udp)).status).toBe('PASS');
    const tcp = base.replace(
      '-A PREROUTING -p tcp -j ISTIO_INBOUND',
      '-A PREROUTING -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080\n-A PREROUTING -p tcp -j ISTIO_INBOUND',
    );
    expect(net06(withRules(tcp)).status).toBe('FAIL');
  });

  it('does not apply with operator-installed rules or inbound capture off, and is ERROR without readable rules', () => {
    expect(net06(withRules(fixture('iptables/vm-docker-before-istio.txt'), [...ENV, "ISTIO_CUSTOM_IP_TABLES='true'"])).status).toBe('SKIP');
    expect(net06(withRules(fixture('iptables/vm-docker-before-istio.txt'), ["ISTIO_INBOUND_PORTS=''"])).status).toBe('SKIP');
    expect(net06({ instanceId: ID, env: ENV, sections: [{ name: 'iptables-save', content: '', cut: true }] }).status).toBe('ERROR');
  });
});

describe('REG-07: the registered address is reachable', () => {
  const reg07 = (vm: TestVm, entryIp: string, inventoryIp?: string) => {
    const bundle = buildBundle({ vms: [vm], entries: [workloadEntry('payments', 'payments-vm', entryIp)] });
    if (inventoryIp !== undefined) bundle.inventory.InstanceInformationList[0]!.IPAddress = inventoryIp;
    return findingsOf(bundle, 'REG-07')[ID]!;
  };

  it('passes when the entry holds the address SSM knows, or the one ISTIO_SVC_IP pins', () => {
    expect(reg07({ instanceId: ID, ip: '10.0.0.5' }, '10.0.0.5')).toMatchObject({
      status: 'PASS',
      message: 'the VM is registered at 10.0.0.5, the address ISTIO_SVC_IP pins',
    });
    expect(reg07({ instanceId: ID, ip: '10.0.0.5', env: ["ISTIO_SVC_IP=''"] }, '10.0.0.5')).toMatchObject({
      status: 'PASS',
      message: "the VM is registered at 10.0.0.5, its address in SSM's inventory",
    });
  });

  it('fails for an address SSM does not know the VM by', () => {
    const finding = reg07({ instanceId: ID, ip: '10.0.0.5', env: ["ISTIO_SVC_IP=''"] }, '10.0.0.5', '10.20.1.7');
    expect(finding).toMatchObject({
      status: 'FAIL',
      message: 'the VM is registered at 10.0.0.5, but SSM knows it at 10.20.1.7: the mesh may not reach it',
    });
  });

  it.each([
    ['172.17.0.1', "Docker's default bridge"],
    ['127.0.0.1', 'a loopback address'],
    ['169.254.10.2', 'a link-local address'],
  ])('always fails for %s (%s), even when pinned', (ip, what) => {
    expect(reg07({ instanceId: ID, ip }, ip)).toMatchObject({ status: 'FAIL', message: expect.stringContaining(what) });
  });

  it('does not apply without an entry (REG-01 reports it)', () => {
    expect(findingsOf(buildBundle({ vms: [{ instanceId: ID }] }), 'REG-07')[ID]!.status).toBe('SKIP');
  });
});
