import type { IptablesRule, IptablesRuleset } from './parsers/iptables-save.ts';
import type { Evidence } from './result.ts';
import { hasIstioTables, nftablesAsIptables } from './nftables-capture.ts';
import { IPTABLES_SECTIONS, type VmSnapshot } from './vm-snapshot.ts';

/** The IPv4 ruleset that actually captures traffic on the VM, and what the other backends hold. */
export interface CaptureView {
  /** The backend whose rules are in force (the one holding the ISTIO_ chains). */
  effective: { section: string; ruleset: IptablesRuleset };
  /**
   * The backends that hold Istio's capture, beside plain `iptables-save`: iptables-legacy, iptables-nft,
   * and `nftables` for Istio's native nftables tables. More than one is a capture split between them.
   */
  backendsWithIstio: string[];
}

/** True when a ruleset defines or uses any ISTIO_ chain in any table. */
export function hasIstioChains(ruleset: IptablesRuleset): boolean {
  for (const chains of ruleset.chains.values()) for (const name of chains.keys()) if (name.startsWith('ISTIO_')) return true;
  return ruleset.rules.some((r) => r.chain.startsWith('ISTIO_') || r.target?.startsWith('ISTIO_'));
}

/**
 * Picks the IPv4 ruleset in force. `iptables-save` is itself one of the legacy or nft tools (the
 * distribution's alternative), so when exactly one of those holds ISTIO_ chains it is the one in force;
 * otherwise plain `iptables-save` is taken as the distribution's choice.
 */
export function captureView(
  snapshot: Pick<VmSnapshot, 'iptables' | 'sections' | 'truncated' | 'nftables' | 'clusterEnv'>,
): Evidence<CaptureView> {
  const native = nativeNftables(snapshot);
  if (!native.ok) return native;
  const iptables = iptablesCaptureView(snapshot);
  if (!native.value) return iptables;
  // Istio's nftables tables are in force; any iptables backend still holding ISTIO_ chains captures too.
  const withIstio =
    iptables.ok && hasIstioChains(iptables.value.effective.ruleset)
      ? [iptables.value.effective.section, ...iptables.value.backendsWithIstio]
      : [];
  return {
    ok: true,
    value: { effective: { section: 'nftables', ruleset: native.value }, backendsWithIstio: ['nftables', ...new Set(withIstio)] },
  };
}

/**
 * Istio's native nftables rules, read as iptables rules, when they are the capture in force: the VM
 * holds Istio's inet tables, or its environment says NATIVE_NFTABLES=true (then an empty listing is
 * a missing capture, not a reason to look at iptables). Undefined when nftables is not in use.
 */
function nativeNftables(
  snapshot: Pick<VmSnapshot, 'nftables' | 'clusterEnv' | 'truncated' | 'sections'>,
): Evidence<IptablesRuleset | undefined> {
  const declared = snapshot.clusterEnv.ok && snapshot.clusterEnv.value.get('NATIVE_NFTABLES') === 'true';
  const listing = snapshot.nftables;
  if (!listing) {
    if (declared)
      return {
        ok: false,
        reason: snapshot.truncated
          ? 'the output was cut before the nftables section'
          : 'NATIVE_NFTABLES=true, but the VM printed no nftables section (is nft installed?)',
      };
    return { ok: true, value: undefined };
  }
  if (!listing.ok) return listing;
  if (!declared && !hasIstioTables(listing.value)) return { ok: true, value: undefined };
  return { ok: true, value: nftablesAsIptables(listing.value) };
}

/** The iptables backend in force, whatever nftables holds: captureView's choice among the save tools. */
export function iptablesCaptureView(snapshot: Pick<VmSnapshot, 'iptables' | 'sections' | 'truncated'>): Evidence<CaptureView> {
  const parsed = new Map<string, IptablesRuleset>();
  for (const b of snapshot.iptables) {
    if (!b.section.startsWith('iptables')) continue;
    // One backend unread could be the one holding (or duplicating) the rules: no verdict on the others.
    if (!b.ruleset.ok && !b.absent) return { ok: false, reason: b.ruleset.reason };
    if (b.ruleset.ok) parsed.set(b.section, b.ruleset.value);
  }
  // A cut output may have lost the legacy or nft section after iptables-save: sections that follow show it did not.
  const after = IPTABLES_SECTIONS.slice(IPTABLES_SECTIONS.indexOf('ip6tables-save'));
  if (
    snapshot.truncated &&
    !after.some((name) => snapshot.sections.has(name)) &&
    !['certs', 'token', 'versions'].some((name) => snapshot.sections.has(name))
  ) {
    return { ok: false, reason: 'the output was cut around the iptables sections: a backend may be missing' };
  }
  if (parsed.size === 0) return { ok: false, reason: 'no iptables-save tool on the VM printed rules' };
  const backendsWithIstio = ['iptables-legacy-save', 'iptables-nft-save'].filter((s) => parsed.has(s) && hasIstioChains(parsed.get(s)!));
  const section =
    backendsWithIstio.length === 1 ? backendsWithIstio[0]! : parsed.has('iptables-save') ? 'iptables-save' : [...parsed.keys()][0]!;
  return { ok: true, value: { effective: { section, ruleset: parsed.get(section)! }, backendsWithIstio } };
}

/** The nat rules of one chain, in order. */
export function natRules(ruleset: IptablesRuleset, chain: string): IptablesRule[] {
  return tableRules(ruleset, 'nat', chain);
}

/** The rules of one chain of one table, in order. */
export function tableRules(ruleset: IptablesRuleset, table: string, chain: string): IptablesRule[] {
  return ruleset.rules.filter((r) => r.table === table && r.chain === chain);
}

/**
 * Whether inbound capture is TPROXY: istio-start.sh and istio-iptables take ISTIO_INBOUND_INTERCEPTION_MODE
 * as written, and only `TPROXY` moves the capture from nat REDIRECT to the mangle table.
 */
export function isTproxyMode(env: ReadonlyMap<string, string>): boolean {
  return env.get('ISTIO_INBOUND_INTERCEPTION_MODE') === 'TPROXY';
}

const is = (m: { value: string; negated: boolean } | undefined, value: string): boolean =>
  m !== undefined && !m.negated && m.value === value;

/** A rule matches TCP (or all protocols) and jumps to `target`. */
export function isTcpJump(rule: IptablesRule, target: string): boolean {
  return rule.target === target && (rule.protocol === undefined || is(rule.protocol, 'tcp'));
}

/** A REDIRECT of TCP to `port`. */
export function isTcpRedirectTo(rule: IptablesRule, port: string): boolean {
  return rule.target === 'REDIRECT' && is(rule.protocol, 'tcp') && rule.toPorts === port;
}

/** A TPROXY of TCP to `port` (`-j TPROXY --on-port`). */
export function isTcpTproxyTo(rule: IptablesRule, port: string): boolean {
  return rule.target === 'TPROXY' && is(rule.protocol, 'tcp') && rule.toPorts === port;
}

/** A rule that returns traffic to `destination`, with no other condition. */
export function isReturnFor(rule: IptablesRule, destination: string): boolean {
  return (
    rule.target === 'RETURN' && is(rule.destination, destination) && !rule.dport && !rule.uidOwner && !rule.gidOwner && !rule.outInterface
  );
}

/** A TCP rule on one destination port (not negated). */
export function hasTcpDport(rule: IptablesRule, port: string): boolean {
  return is(rule.protocol, 'tcp') && is(rule.dport, port);
}

/** A UDP port-53 redirect to Istio's DNS proxy (15053), the rule istio-iptables adds per resolver. */
export function isDnsRedirect(rule: IptablesRule): boolean {
  return rule.target === 'REDIRECT' && is(rule.protocol, 'udp') && is(rule.dport, '53') && rule.toPorts === '15053';
}
