import { normalizeAddress, type IptablesRule, type IptablesRuleset, type Match } from './parsers/iptables-save.ts';
import type { NftRuleset } from './parsers/nft-list.ts';

/**
 * The tables of Istio's native nftables mode and the iptables table each stands for
 * (tools/istio-nftables/pkg/constants: IstioProxyNatTable, IstioProxyMangleTable, IstioProxyRawTable).
 */
export const ISTIO_NFT_TABLES: Readonly<Record<string, string>> = {
  'istio-proxy-nat': 'nat',
  'istio-proxy-mangle': 'mangle',
  'istio-proxy-raw': 'raw',
};

/**
 * Istio's nftables rules read as the iptables rules they replace, so the capture controls judge both
 * with the same rules. istio-nftables names its chains after istio-iptables' (`istio-inbound` for
 * ISTIO_INBOUND) and hooks base chains where the built-in chains are (`prerouting` for PREROUTING); its
 * expressions (`meta l4proto tcp`, `tcp dport != { 53, 15008 }`, `ip daddr`, `oifname`, `meta skuid`,
 * `jump`, `redirect to :15001`, `tproxy ip to :15006`, nft(8) "EXPRESSIONS" and "STATEMENTS") are read
 * into the fields of an iptables rule. Only `inet` tables of those names count: no other table is Istio's.
 */
export function nftablesAsIptables(ruleset: NftRuleset): IptablesRuleset {
  const out: IptablesRuleset = { chains: new Map(), rules: [] };
  for (const table of ruleset.tables) {
    const name = ISTIO_NFT_TABLES[table.name];
    if (table.family !== 'inet' || !name) continue;
    const chains = out.chains.get(name) ?? new Map<string, string>();
    out.chains.set(name, chains);
    for (const chain of table.chains) {
      const chainName = iptablesChainName(chain.name, chain.hook);
      chains.set(chainName, chain.hook ? (chain.policy ?? 'accept').toUpperCase() : '-');
      for (const text of chain.rules) out.rules.push(nftRule(name, chainName, text));
    }
  }
  return out;
}

/** Whether the ruleset holds any of Istio's nftables tables. */
export function hasIstioTables(ruleset: NftRuleset): boolean {
  return ruleset.tables.some((t) => t.family === 'inet' && ISTIO_NFT_TABLES[t.name] !== undefined);
}

function iptablesChainName(name: string, hook: string | undefined): string {
  return (hook ?? name).toUpperCase().replaceAll('-', '_');
}

/** The statements that decide where a packet goes, first one wins (a TPROXY's `meta mark set … accept` stays a TPROXY). */
const VERDICTS: Record<string, string> = { return: 'RETURN', accept: 'ACCEPT', drop: 'DROP', reject: 'REJECT', masquerade: 'MASQUERADE' };

function nftRule(table: string, chain: string, text: string): IptablesRule {
  const rule: IptablesRule = { table, chain, text };
  const tokens = [...text.matchAll(/\{[^}]*\}|"(?:[^"\\]|\\.)*"|\S+/g)].map((m) => m[0]);
  const setTarget = (target: string) => {
    rule.target ??= target;
  };
  // A match's value, after an optional `!=` (or `==`), sets and quotes unwrapped.
  const valueAt = (i: number): { match: Match; next: number } => {
    let negated = false;
    let at = i;
    if (tokens[at] === '!=' || tokens[at] === '==') {
      negated = tokens[at] === '!=';
      at++;
    }
    const raw = tokens[at] ?? '';
    const value = raw.startsWith('{')
      ? raw
          .slice(1, -1)
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean)
          .join(',')
      : raw.replace(/^"(.*)"$/, '$1');
    return { match: { value, negated }, next: at + 1 };
  };
  const put = (
    field: 'protocol' | 'source' | 'destination' | 'inInterface' | 'outInterface' | 'dport' | 'sport' | 'uidOwner' | 'gidOwner',
    i: number,
  ): number => {
    const { match, next } = valueAt(i);
    if (field === 'source' || field === 'destination') match.value = match.value.split(',').map(normalizeAddress).join(',');
    rule[field] = match;
    return next;
  };
  for (let i = 0; i < tokens.length;) {
    const token = tokens[i]!;
    const after = tokens[i + 1];
    if (
      token === 'meta' &&
      (after === 'l4proto' || after === 'skuid' || after === 'skgid' || after === 'oifname' || after === 'iifname' || after === 'mark')
    ) {
      i++;
      continue;
    }
    if (token === 'l4proto') i = put('protocol', i + 1);
    else if ((token === 'tcp' || token === 'udp' || token === 'th') && (after === 'dport' || after === 'sport')) {
      if (token !== 'th' && !rule.protocol) rule.protocol = { value: token, negated: false };
      i = put(after === 'dport' ? 'dport' : 'sport', i + 2);
    } else if ((token === 'ip' || token === 'ip6') && (after === 'daddr' || after === 'saddr'))
      i = put(after === 'daddr' ? 'destination' : 'source', i + 2);
    else if (token === 'oifname' || token === 'oif') i = put('outInterface', i + 1);
    else if (token === 'iifname' || token === 'iif') i = put('inInterface', i + 1);
    else if (token === 'skuid') i = put('uidOwner', i + 1);
    else if (token === 'skgid') i = put('gidOwner', i + 1);
    else if (token === 'jump' || token === 'goto') {
      setTarget(iptablesChainName(after ?? '', undefined));
      i += 2;
    } else if (token === 'redirect' || token === 'tproxy') {
      setTarget(token === 'redirect' ? 'REDIRECT' : 'TPROXY');
      let at = i + 1;
      if (tokens[at] === 'ip' || tokens[at] === 'ip6') at++;
      if (tokens[at] === 'to') {
        // `to :15001`, or `to 0.0.0.0:15006`: the port follows the last colon.
        const port = /:(?<port>\d{1,5})$/.exec(tokens[at + 1] ?? '');
        if (port?.groups && rule.target === (token === 'redirect' ? 'REDIRECT' : 'TPROXY')) rule.toPorts ??= port.groups.port!;
        at += 2;
      }
      i = at;
    } else if (token === 'dnat' || token === 'snat') {
      setTarget(token.toUpperCase());
      i++;
    } else if (token === 'mark' && after === 'set') {
      setTarget('MARK');
      i += 3;
    } else if (token === 'ct' && tokens[i + 2] === 'set') {
      // `ct zone set 1`, `ct mark set mark`: the raw table's CT and mangle's CONNMARK.
      setTarget(after === 'zone' ? 'CT' : 'CONNMARK');
      i += 4;
    } else if (VERDICTS[token]) {
      setTarget(VERDICTS[token]);
      i++;
    } else i++;
  }
  return rule;
}
