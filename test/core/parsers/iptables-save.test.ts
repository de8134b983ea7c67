import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../../lib/core/parsers/iptables-save.ts';
import { fixture } from '../../support/fixtures.ts';

describe('parseIptablesSave', () => {
  const parsed = parseIptablesSave(fixture('iptables/vm-nft-dns-capture.txt'));

  it('reads chains with their policies and rules in order', () => {
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect([...parsed.value.chains.get('nat')!]).toEqual([
      ['PREROUTING', 'ACCEPT'],
      ['INPUT', 'ACCEPT'],
      ['OUTPUT', 'ACCEPT'],
      ['POSTROUTING', 'ACCEPT'],
      ['ISTIO_INBOUND', '-'],
      ['ISTIO_IN_REDIRECT', '-'],
      ['ISTIO_OUTPUT', '-'],
      ['ISTIO_REDIRECT', '-'],
    ]);
    expect(parsed.value.rules).toHaveLength(24);
  });

  it('pulls matches out of reordered live rules, with their negations', () => {
    if (!parsed.ok) throw new Error(parsed.reason);
    const rule = parsed.value.rules.find((r) => r.text.startsWith('-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp'))!;
    expect(rule).toMatchObject({
      table: 'nat',
      chain: 'ISTIO_OUTPUT',
      destination: { value: '127.0.0.1/32', negated: true },
      outInterface: { value: 'lo', negated: false },
      protocol: { value: 'tcp', negated: false },
      dport: { value: '53', negated: true },
      uidOwner: { value: '998', negated: false },
      target: 'ISTIO_IN_REDIRECT',
    });
    const redirect = parsed.value.rules.find((r) => r.chain === 'ISTIO_REDIRECT')!;
    expect(redirect).toMatchObject({ protocol: { value: 'tcp', negated: false }, target: 'REDIRECT', toPorts: '15001' });
  });

  it('reads the restore form istio-iptables prints, old-style negation, and bare addresses', () => {
    const restore = parseIptablesSave(
      '* nat\n-N ISTIO_OUTPUT\n-A ISTIO_OUTPUT -d ! 127.0.0.1 -m comment --comment "a b" -j RETURN\nCOMMIT\n',
    );
    // `* nat` with a space is not iptables-save's header: istio-iptables' trace is not live output.
    expect(restore.ok).toBe(false);
    const live = parseIptablesSave(
      '*nat\n:ISTIO_OUTPUT - [0:0]\n-A ISTIO_OUTPUT -d ! 127.0.0.1 -m comment --comment "a b" -j RETURN\nCOMMIT\n',
    );
    expect(live.ok && live.value.rules[0]).toMatchObject({ destination: { value: '127.0.0.1/32', negated: true }, target: 'RETURN' });
  });

  it('keeps the rules read before a truncation', () => {
    const text = fixture('iptables/vm-nft-dns-capture.txt');
    const cut = parseIptablesSave(text.slice(0, text.indexOf('-A ISTIO_IN_REDIRECT')));
    expect(cut.ok && cut.value.rules.map((r) => r.chain)).toEqual(['PREROUTING', 'OUTPUT', 'OUTPUT', ...Array(6).fill('ISTIO_INBOUND')]);
  });

  it('is unavailable for garbage and binary bytes, without throwing', () => {
    expect(parseIptablesSave('iptables: command not found')).toMatchObject({ ok: false });
    expect(parseIptablesSave('\u0000\u00ff*\n-A')).toMatchObject({ ok: false });
  });
});
