import { describe, expect, it } from 'vitest';
import { analyzeBundle } from '../../../lib/core/analyze.ts';
import { buildBundle, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';
import { fixture } from '../../support/fixtures.ts';
import { iptablesGoldenAsSave } from '../../support/istio-iptables-golden.ts';
import { nftGoldenAsListing } from '../../support/istio-nftables-golden.ts';

// The capture layouts Istio supports besides istio-iptables' nat REDIRECT: none of them may FAIL.
const CAPTURE = fixture('iptables/vm-nft-dns-capture.txt');
const ENV = ["ISTIO_INBOUND_PORTS='*'", "ISTIO_LOCAL_EXCLUDE_PORTS='22,15090,15021,15020'", "ISTIO_META_DNS_CAPTURE='true'"];
const IDENTITY = { name: 'identity', content: 'hostname=vm1\nips=10.0.0.1\nproxy_uid=998\nproxy_gid=998' };
const NET = ['NET-01', 'NET-02', 'NET-03', 'NET-04', 'NET-05', 'NET-06'];
const ID = 'i-0000000000000001';

function vm(sections: { name: string; content: string; rc?: number }[], env: string[] = ENV): TestVm {
  return { instanceId: ID, env, sections: [IDENTITY, ...sections] };
}
const statuses = (v: TestVm) => {
  const bundle = buildBundle({ vms: [v] });
  return Object.fromEntries(NET.map((c) => [c, findingsOf(bundle, c)[ID]!.status]));
};
const finding = (v: TestVm, control: string) => findingsOf(buildBundle({ vms: [v] }), control)[ID]!;
const every = (status: string) => Object.fromEntries(NET.map((c) => [c, status]));

describe('ISTIO_CUSTOM_IP_TABLES=true', () => {
  it('makes NET-01..06 SKIP with the reason, showing the rules in force', () => {
    const v = vm([{ name: 'iptables-save', content: fixture('iptables/vm-no-istio.txt') }], [...ENV, "ISTIO_CUSTOM_IP_TABLES='true'"]);
    expect(statuses(v)).toEqual(every('SKIP'));
    const net01 = finding(v, 'NET-01');
    expect(net01.message).toBe('ISTIO_CUSTOM_IP_TABLES=true: the operator installs the capture rules, not Istio');
    const shown = analyzeBundle(buildBundle({ vms: [v] })).findings.find((f) => f.control === 'NET-01')?.evidence;
    expect(shown).toMatchObject({ backend: 'iptables-save', rules: expect.any(Array) });
    const operatorRules = vm([{ name: 'iptables-save', content: CAPTURE }], [...ENV, "ISTIO_CUSTOM_IP_TABLES='true'"]);
    const evidence = analyzeBundle(buildBundle({ vms: [operatorRules] })).findings.find((f) => f.control === 'NET-01')?.evidence;
    expect(evidence?.rules).toContain('nat -A OUTPUT -p tcp -j ISTIO_OUTPUT');
  });

  it('counts when only sidecar.env sets it, and not when cluster.env turns it off', () => {
    const rules = { name: 'iptables-save', content: fixture('iptables/vm-no-istio.txt') };
    expect(statuses(vm([rules, { name: 'sidecar-env', content: 'ISTIO_CUSTOM_IP_TABLES=true\n' }]))).toEqual(every('SKIP'));
    const overridden = statuses(
      vm([rules, { name: 'sidecar-env', content: 'ISTIO_CUSTOM_IP_TABLES=true\n' }], [...ENV, "ISTIO_CUSTOM_IP_TABLES='false'"]),
    );
    expect(overridden['NET-01']).toBe('FAIL');
  });

  it('is only the exact word true, as istio-start.sh compares it', () => {
    expect(statuses(vm([{ name: 'iptables-save', content: CAPTURE }], [...ENV, "ISTIO_CUSTOM_IP_TABLES='TRUE'"]))).toEqual(every('PASS'));
  });

  it('leaves a FAIL an ERROR when sidecar.env could not be read, since it might set it', () => {
    const v = vm([
      { name: 'iptables-save', content: fixture('iptables/vm-no-istio.txt') },
      { name: 'sidecar-env', content: '', rc: 124 },
    ]);
    const net01 = finding(v, 'NET-01');
    expect(net01.status).toBe('ERROR');
    expect(net01.message).toContain('whether the operator installs the rules (ISTIO_CUSTOM_IP_TABLES) is unknown');
    expect(
      statuses(
        vm([
          { name: 'iptables-save', content: CAPTURE },
          { name: 'sidecar-env', content: '', rc: 124 },
        ]),
      )['NET-01'],
    ).toBe('PASS');
  });
});

describe('ISTIO_INBOUND_INTERCEPTION_MODE=TPROXY', () => {
  // Istio 1.24.0's own golden rules (test/fixtures/iptables/README.md), as iptables-save prints them.
  const tables = (golden: string) => iptablesGoldenAsSave(fixture(`iptables/${golden}`), 'ipv4');
  const wildcard = tables('istio-1.24.0-tproxy.golden');
  const listed = tables('istio-1.24.0-inbound-ports-tproxy.golden');
  const save = (t: Record<string, string>, names = ['nat', 'raw', 'mangle']) => ({
    name: 'iptables-save',
    content: names.map((n) => t[n] ?? '').join(''),
  });
  const GOLDEN_ENV = ["ISTIO_INBOUND_PORTS='*'", "ISTIO_META_DNS_CAPTURE='true'", "ISTIO_INBOUND_INTERCEPTION_MODE='TPROXY'"];
  const uid1337 = { name: 'identity', content: 'hostname=vm1\nips=10.0.0.1\nproxy_uid=1337\nproxy_gid=1337' };

  it('passes NET-01..06 on the mangle-table capture istio-iptables installs', () => {
    const v = { ...vm([save(wildcard)], GOLDEN_ENV), sections: [uid1337, save(wildcard)] };
    expect(statuses(v)).toEqual(every('PASS'));
    expect(finding(v, 'NET-02').message).toBe('inbound capture matches ISTIO_INBOUND_PORTS=* (TPROXY, mangle table)');
    expect(finding(v, 'NET-06').message).toContain('TPROXY in mangle PREROUTING');
  });

  it('checks each listed inbound port against ISTIO_TPROXY', () => {
    const env = ["ISTIO_INBOUND_PORTS='32000,31000'", "ISTIO_INBOUND_INTERCEPTION_MODE='TPROXY'"];
    expect(finding(vm([save(listed)], env), 'NET-02').status).toBe('PASS');
    expect(finding(vm([save(listed)], ["ISTIO_INBOUND_PORTS='32000,8080'", "ISTIO_INBOUND_INTERCEPTION_MODE='TPROXY'"]), 'NET-02')).toEqual(
      {
        status: 'FAIL',
        message:
          'inbound capture does not match the configuration (TPROXY, mangle table): missing mangle ISTIO_INBOUND -p tcp --dport 8080 -j ISTIO_TPROXY',
      },
    );
  });

  it('fails NET-02 when the mangle rules are missing, naming them', () => {
    expect(finding(vm([save(wildcard, ['nat'])], GOLDEN_ENV), 'NET-02')).toEqual({
      status: 'FAIL',
      message:
        'inbound capture does not match the configuration (TPROXY, mangle table): missing mangle PREROUTING -p tcp -j ISTIO_INBOUND; mangle ISTIO_TPROXY -p tcp -j TPROXY --on-port 15006; mangle ISTIO_INBOUND … -j ISTIO_DIVERT; mangle ISTIO_DIVERT -j MARK; mangle ISTIO_INBOUND -p tcp -j ISTIO_TPROXY',
    });
    // The nat REDIRECT form does not stand in for TPROXY, and the other way round.
    expect(
      finding(vm([{ name: 'iptables-save', content: CAPTURE }], [...ENV, "ISTIO_INBOUND_INTERCEPTION_MODE='TPROXY'"]), 'NET-02').status,
    ).toBe('FAIL');
    expect(finding(vm([save(wildcard)], ["ISTIO_INBOUND_PORTS='*'"]), 'NET-02').status).toBe('FAIL');
  });

  it('fails NET-02 when an excluded port returns after the TPROXY jump', () => {
    expect(finding(vm([save(wildcard)], [...GOLDEN_ENV, "ISTIO_LOCAL_EXCLUDE_PORTS='22'"]), 'NET-02').message).toBe(
      'inbound capture does not match the configuration (TPROXY, mangle table): missing mangle ISTIO_INBOUND -p tcp --dport 22 -j RETURN before the TPROXY',
    );
  });
});

describe("Istio's native nftables mode", () => {
  // Istio 1.27.0's own nftables golden rules (test/fixtures/nftables/README.md), as `nft list table` prints them.
  const listing = (golden: string, uid?: number) => {
    const tables = nftGoldenAsListing(fixture(`nftables/${golden}`), uid);
    return { name: 'nftables', content: Object.values(tables).join('') };
  };
  const EMPTY_NAT = { name: 'iptables-save', content: fixture('iptables/vm-no-istio.txt') };
  const uid1337 = { name: 'identity', content: 'hostname=vm1\nips=10.0.0.1\nproxy_uid=1337\nproxy_gid=1337' };
  const TPROXY_ENV = [
    "ISTIO_INBOUND_PORTS='*'",
    "ISTIO_META_DNS_CAPTURE='true'",
    "ISTIO_INBOUND_INTERCEPTION_MODE='TPROXY'",
    "NATIVE_NFTABLES='true'",
  ];

  it('passes NET-01..06 on the tables istio-nftables installs, with iptables empty', () => {
    const v = { ...vm([]), env: TPROXY_ENV, sections: [uid1337, EMPTY_NAT, listing('istio-1.27.0-tproxy.golden')] };
    expect(statuses(v)).toEqual(every('PASS'));
    expect(finding(v, 'NET-01').message).toBe('outbound capture is installed (nftables)');
  });

  it('reads the nat REDIRECT form from nftables too, ports and all', () => {
    const v = vm([EMPTY_NAT, listing('istio-1.27.0-inbound-ports-wildcard.golden', 998)], ["ISTIO_INBOUND_PORTS='*'"]);
    expect(finding(v, 'NET-02')).toEqual({ status: 'PASS', message: 'inbound capture matches ISTIO_INBOUND_PORTS=*' });
    expect(finding(v, 'NET-06').status).toBe('PASS');
    // That configuration of istio-nftables' tests captures no outbound range: NET-01 says so.
    expect(finding(v, 'NET-01').message).toBe('outbound capture is incomplete: missing ISTIO_OUTPUT … -j ISTIO_REDIRECT');
    expect(
      finding(
        vm(
          [EMPTY_NAT, listing('istio-1.27.0-inbound-ports-wildcard.golden', 998)],
          ["ISTIO_INBOUND_PORTS='*'", "ISTIO_LOCAL_EXCLUDE_PORTS='22'"],
        ),
        'NET-02',
      ).status,
    ).toBe('FAIL');
  });

  it('fails NET-04 and NET-05 on nftables as on iptables', () => {
    const v = vm([EMPTY_NAT, listing('istio-1.27.0-ip-range.golden')], ["ISTIO_INBOUND_PORTS=''", "ISTIO_META_DNS_CAPTURE='false'"]);
    expect(finding(v, 'NET-04').message).toBe('DNS capture is off, yet port 53 is redirected to 15053');
    expect(finding(v, 'NET-05').message).toBe('the owner rules name uid 3, uid 4, gid 1, gid 2, but istio-proxy is uid 998 gid 998');
  });

  it('fails NET-03 when iptables still holds a capture beside the nftables tables', () => {
    const v = vm([{ name: 'iptables-save', content: CAPTURE }, listing('istio-1.27.0-tproxy.golden', 998)], TPROXY_ENV);
    expect(finding(v, 'NET-03')).toEqual({
      status: 'FAIL',
      message: 'ISTIO_ chains are in both nftables and iptables-save: the capture is split between backends',
    });
  });

  it('is ERROR when NATIVE_NFTABLES=true but no listing was printed, and when the listing was cut', () => {
    expect(finding(vm([EMPTY_NAT], [...ENV, "NATIVE_NFTABLES='true'"]), 'NET-01')).toEqual({
      status: 'ERROR',
      message: 'NATIVE_NFTABLES=true, but the VM printed no nftables section (is nft installed?)',
    });
    const cut = listing('istio-1.27.0-tproxy.golden').content;
    expect(finding(vm([EMPTY_NAT, { name: 'nftables', content: cut.slice(0, 300) }]), 'NET-01').message).toBe(
      'section nftables: the nft listing ends inside a block: it was cut',
    );
  });

  it('leaves iptables in force when nf_tables holds no Istio table', () => {
    expect(
      statuses(
        vm([
          { name: 'iptables-save', content: CAPTURE },
          { name: 'nftables', content: '' },
        ]),
      ),
    ).toEqual(every('PASS'));
  });
});

describe('NET-06 with native nftables beside iptables rules', () => {
  it("is ERROR, neither PASS nor FAIL, when iptables' nat PREROUTING rewrites TCP: the two hooks' order is not defined", () => {
    const tables = nftGoldenAsListing(fixture('nftables/istio-1.27.0-inbound-ports-wildcard.golden'), 998);
    const docker = {
      name: 'iptables-save',
      content: fixture('iptables/vm-docker-before-istio.txt')
        .replace(/^-A (PREROUTING|OUTPUT) .*ISTIO_.*\n/gm, '')
        .replace(/^(:ISTIO_\S+ - \[0:0\]|-A ISTIO_.*)\n/gm, ''),
    };
    const v = vm([docker, { name: 'nftables', content: Object.values(tables).join('') }], ["ISTIO_INBOUND_PORTS='*'"]);
    const net06 = finding(v, 'NET-06');
    expect(net06.status).toBe('ERROR');
    expect(net06.message).toMatch(
      /^iptables' nat PREROUTING rewrites TCP at the same hook and priority as Istio's nftables prerouting, in an order nftables does not define: .*-j DOCKER/,
    );
  });
});
