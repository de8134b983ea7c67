import { describe, expect, it } from 'vitest';
import { buildBundle, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';
import { fixture } from '../../support/fixtures.ts';

const CAPTURE = fixture('iptables/vm-nft-dns-capture.txt');
const ENV = ["ISTIO_INBOUND_PORTS='*'", "ISTIO_LOCAL_EXCLUDE_PORTS='22,15090,15021,15020'", "ISTIO_META_DNS_CAPTURE='true'"];
const IDENTITY = { name: 'identity', content: 'hostname=vm1\nips=10.0.0.1\nproxy_uid=998\nproxy_gid=998' };

function vm(iptables: Record<string, string | null>, extra: Partial<TestVm> = {}): TestVm {
  const sections = Object.entries(iptables).map(([name, content]) =>
    content === null ? { name, content: '', rc: 127, missing: [name] } : { name, content },
  );
  return { instanceId: 'i-0000000000000001', env: ENV, sections: [IDENTITY, ...sections], ...extra };
}
const statusOf = (v: TestVm, control: string) => findingsOf(buildBundle({ vms: [v] }), control)['i-0000000000000001']!;
const ALL = ['NET-01', 'NET-02', 'NET-03', 'NET-04', 'NET-05'];

describe('NET controls on a correctly captured VM', () => {
  it('all pass on live iptables-nft output with the VM uid', () => {
    const v = vm({ 'iptables-save': CAPTURE, 'iptables-legacy-save': null, 'iptables-nft-save': CAPTURE });
    expect(ALL.map((c) => [c, statusOf(v, c).status])).toEqual(ALL.map((c) => [c, 'PASS']));
  });
});

describe('NET-01 / NET-02', () => {
  it('fail when no capture is installed', () => {
    const v = vm({ 'iptables-save': fixture('iptables/vm-no-istio.txt') });
    expect(statusOf(v, 'NET-01')).toEqual({
      status: 'FAIL',
      message:
        'outbound capture is incomplete: missing OUTPUT -p tcp -j ISTIO_OUTPUT; ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN; ISTIO_OUTPUT … -j ISTIO_REDIRECT; ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
    });
    expect(statusOf(v, 'NET-02').status).toBe('FAIL');
    expect(statusOf(v, 'NET-03').status).toBe('SKIP');
  });

  it('NET-02 fails when an excluded port is not exempted before the redirect', () => {
    const v = vm(
      { 'iptables-save': CAPTURE },
      { env: ["ISTIO_INBOUND_PORTS='*'", "ISTIO_LOCAL_EXCLUDE_PORTS='22,9100'", "ISTIO_META_DNS_CAPTURE='true'"] },
    );
    expect(statusOf(v, 'NET-02').message).toBe(
      'inbound capture does not match the configuration: missing ISTIO_INBOUND -p tcp --dport 9100 -j RETURN before the redirect',
    );
  });

  it('NET-02 checks each listed inbound port', () => {
    const v = vm({ 'iptables-save': CAPTURE }, { env: ["ISTIO_INBOUND_PORTS='8080,9090'", "ISTIO_META_DNS_CAPTURE='true'"] });
    expect(statusOf(v, 'NET-02').status).toBe('FAIL');
  });

  it('are ERROR when no iptables tool printed rules', () => {
    const v = vm({ 'iptables-save': null, 'iptables-legacy-save': null, 'iptables-nft-save': null });
    expect(statusOf(v, 'NET-01')).toEqual({ status: 'ERROR', message: 'no iptables-save tool on the VM printed rules' });
  });
});

describe('NET-03', () => {
  it('fails when the capture is split between legacy and nft', () => {
    const v = vm({ 'iptables-save': CAPTURE, 'iptables-legacy-save': CAPTURE, 'iptables-nft-save': CAPTURE });
    expect(statusOf(v, 'NET-03')).toEqual({
      status: 'FAIL',
      message: 'ISTIO_ chains are in both iptables-legacy-save and iptables-nft-save: the capture is split between backends',
    });
  });

  it('fails when a jump is installed twice', () => {
    const twice = CAPTURE.replace('-A OUTPUT -p tcp -j ISTIO_OUTPUT', '-A OUTPUT -p tcp -j ISTIO_OUTPUT\n-A OUTPUT -p tcp -j ISTIO_OUTPUT');
    expect(statusOf(vm({ 'iptables-save': twice }), 'NET-03').message).toBe(
      'rules installed more than once: nat -A OUTPUT -p tcp -j ISTIO_OUTPUT',
    );
  });
});

describe('NET-04', () => {
  it('fails when DNS capture is on but nothing redirects DNS', () => {
    const noDns = CAPTURE.split('\n')
      .filter((l) => !l.includes('15053'))
      .join('\n');
    expect(statusOf(vm({ 'iptables-save': noDns }), 'NET-04').status).toBe('FAIL');
  });
  it('fails when DNS capture is off but DNS is redirected', () => {
    const v = vm({ 'iptables-save': CAPTURE }, { env: ["ISTIO_INBOUND_PORTS='*'", "ISTIO_META_DNS_CAPTURE='false'"] });
    expect(statusOf(v, 'NET-04')).toEqual({ status: 'FAIL', message: 'DNS capture is off, yet port 53 is redirected to 15053' });
  });
});

describe('NET-05', () => {
  it('fails when the owner rules name another uid than istio-proxy', () => {
    expect(statusOf(vm({ 'iptables-save': fixture('iptables/vm-uid-1337.txt') }), 'NET-05')).toEqual({
      status: 'FAIL',
      message: 'the owner rules name uid 1337, gid 1337, but istio-proxy is uid 998 gid 998',
    });
  });
  it('fails when there is no istio-proxy user', () => {
    const v = {
      ...vm({ 'iptables-save': CAPTURE }),
      sections: [
        { name: 'identity', content: 'hostname=vm1\nproxy_uid=\nproxy_gid=' },
        { name: 'iptables-save', content: CAPTURE },
      ],
    };
    expect(statusOf(v, 'NET-05')).toEqual({ status: 'FAIL', message: 'there is no istio-proxy user on this VM' });
  });
  it('is ERROR when the identity section timed out before id answered, and decides when only ip timed out', () => {
    const timedOut = (content: string) => ({
      ...vm({ 'iptables-save': CAPTURE }),
      sections: [
        { name: 'identity', content, rc: 124 },
        { name: 'iptables-save', content: CAPTURE },
      ],
    });
    expect(statusOf(timedOut('hostname=vm1\nips=10.0.0.1\nproxy_uid=998\nproxy_gid='), 'NET-05')).toEqual({
      status: 'ERROR',
      message: 'a command of the identity section timed out on the VM: the istio-proxy uid is unknown',
    });
    expect(statusOf(timedOut('hostname=vm1\nips=\nproxy_uid=998\nproxy_gid=998'), 'NET-05').status).toBe('PASS');
  });
});
