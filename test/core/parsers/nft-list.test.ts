import { describe, expect, it } from 'vitest';
import { nftablesAsIptables } from '../../../lib/core/nftables-capture.ts';
import { parseNftList } from '../../../lib/core/parsers/nft-list.ts';
import { fixture } from '../../support/fixtures.ts';
import { nftGoldenAsListing } from '../../support/istio-nftables-golden.ts';

// Istio 1.27.0's own nftables rules (test/fixtures/nftables/README.md), as `nft list table` prints them.
const TPROXY = nftGoldenAsListing(fixture('nftables/istio-1.27.0-tproxy.golden'));
const LISTING = `${TPROXY['istio-proxy-nat']}${TPROXY['istio-proxy-mangle']}${TPROXY['istio-proxy-raw']}`;

describe('parseNftList', () => {
  it('reads tables, base chains with their hook and policy, and rules in order', () => {
    const parsed = parseNftList(LISTING);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.tables.map((t) => `${t.family} ${t.name}`)).toEqual([
      'inet istio-proxy-nat',
      'inet istio-proxy-mangle',
      'inet istio-proxy-raw',
    ]);
    const nat = parsed.value.tables[0]!;
    expect(nat.chains.find((c) => c.name === 'prerouting')).toEqual({
      name: 'prerouting',
      type: 'nat',
      hook: 'prerouting',
      policy: 'accept',
      rules: ['iifname "not-istio-nic" return'],
    });
    expect(nat.chains.find((c) => c.name === 'istio-redirect')).toEqual({
      name: 'istio-redirect',
      rules: ['meta l4proto tcp redirect to :15001'],
    });
  });

  it('skips sets and other blocks whole, and reads an empty answer as no table', () => {
    const withSet =
      'table inet istio-proxy-nat {\n\tset ports {\n\t\ttype inet_service\n\t\telements = { 53,\n\t\t\t     15008 }\n\t}\n\n\tchain istio-inbound {\n\t\ttcp dport 15008 return\n\t}\n}\n';
    expect(parseNftList(withSet)).toEqual({
      ok: true,
      value: {
        tables: [{ family: 'inet', name: 'istio-proxy-nat', chains: [{ name: 'istio-inbound', rules: ['tcp dport 15008 return'] }] }],
      },
    });
    expect(parseNftList('')).toEqual({ ok: true, value: { tables: [] } });
  });

  it('is unavailable, never throwing, for a truncated listing and for garbage', () => {
    expect(parseNftList(LISTING.slice(0, LISTING.indexOf('chain istio-output {') + 40))).toEqual({
      ok: false,
      reason: 'the nft listing ends inside a block: it was cut',
    });
    expect(parseNftList('-A OUTPUT -p tcp -j ISTIO_OUTPUT\n').ok).toBe(false);
    for (const garbage of ['\u0000\u00ff{{{}}}', '}\n}\n', 'table inet x {\nchain y {\n}\n}\n}\n', 'table'.repeat(10_000)])
      expect(() => parseNftList(garbage)).not.toThrow();
  });
});

describe('nftablesAsIptables', () => {
  it('reads Istio chains and expressions into the iptables rules they stand for', () => {
    const parsed = parseNftList(LISTING);
    if (!parsed.ok) throw new Error(parsed.reason);
    const rules = nftablesAsIptables(parsed.value).rules;
    const find = (table: string, chain: string, text: string) =>
      rules.find((r) => r.table === table && r.chain === chain && r.text === text);
    expect(
      find(
        'nat',
        'ISTIO_OUTPUT',
        'oifname "lo" meta l4proto tcp ip daddr != 127.0.0.1 tcp dport != { 53, 15008 } meta skuid 1337 jump istio-in-redirect',
      ),
    ).toMatchObject({
      outInterface: { value: 'lo', negated: false },
      protocol: { value: 'tcp', negated: false },
      destination: { value: '127.0.0.1/32', negated: true },
      dport: { value: '53,15008', negated: true },
      uidOwner: { value: '1337', negated: false },
      target: 'ISTIO_IN_REDIRECT',
    });
    expect(find('nat', 'ISTIO_REDIRECT', 'meta l4proto tcp redirect to :15001')).toMatchObject({ target: 'REDIRECT', toPorts: '15001' });
    expect(find('nat', 'ISTIO_OUTPUT_DNS', 'ip daddr 127.0.0.53 udp dport 53 redirect to :15053')).toMatchObject({
      protocol: { value: 'udp' },
      dport: { value: '53' },
      target: 'REDIRECT',
      toPorts: '15053',
    });
    expect(
      find('mangle', 'ISTIO_TPROXY', 'meta l4proto tcp ip daddr != 127.0.0.1 tproxy ip to :15006 meta mark set 1337 accept'),
    ).toMatchObject({ target: 'TPROXY', toPorts: '15006' });
    expect(find('mangle', 'PREROUTING', 'meta l4proto tcp jump istio-inbound')).toMatchObject({ target: 'ISTIO_INBOUND' });
    expect(find('mangle', 'ISTIO_DIVERT', 'meta mark set 1337')).toMatchObject({ target: 'MARK' });
  });
});
