import type { Evidence } from '../result.ts';

/** One chain of an nftables table, as `nft list table` prints it. */
export interface NftChain {
  name: string;
  /** A base chain's hook (`prerouting`, `output`…); absent for a regular chain, reached only by jumps. */
  hook?: string;
  type?: string;
  policy?: string;
  /** Each rule's expression line, in order, as printed. */
  rules: string[];
}

export interface NftTable {
  family: string;
  name: string;
  chains: NftChain[];
}

export interface NftRuleset {
  tables: NftTable[];
}

/**
 * Parses the output of `nft list table <family> <name>`, one table after another (nft(8), "LIST" and
 * the ruleset syntax it prints: `table <family> <name> {`, `chain <name> {`, a base chain's
 * `type <type> hook <hook> priority <priority>; policy <policy>;` line, one rule a line, `}` closing
 * each block). Sets, maps, flowtables and other blocks are skipped whole. Never throws: an output that
 * holds no table, or that leaves a block open (a cut output), is unavailable with the reason.
 */
export function parseNftList(text: string): Evidence<NftRuleset> {
  const ruleset: NftRuleset = { tables: [] };
  let table: NftTable | undefined;
  let chain: NftChain | undefined;
  /** Depth of a block being skipped (a set, a map…), inside the table. */
  let skipping = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (skipping > 0) {
      if (line.endsWith('{')) skipping++;
      else if (line === '}') skipping--;
      continue;
    }
    if (!table) {
      const header = /^table (?<family>ip6?|inet|arp|bridge|netdev) (?<name>[A-Za-z0-9_.-]{1,64}) \{$/.exec(line);
      if (!header?.groups) return { ok: false, reason: `not an nft table listing: ${line.slice(0, 80)}` };
      table = { family: header.groups.family!, name: header.groups.name!, chains: [] };
      ruleset.tables.push(table);
      continue;
    }
    if (!chain) {
      if (line === '}') {
        table = undefined;
        continue;
      }
      const header = /^chain (?<name>[A-Za-z0-9_.-]{1,64}) \{$/.exec(line);
      if (header?.groups) {
        chain = { name: header.groups.name!, rules: [] };
        table.chains.push(chain);
      } else if (line.endsWith('{')) {
        skipping = 1;
      }
      continue;
    }
    if (line === '}') {
      chain = undefined;
      continue;
    }
    const base = /^type (?<type>\w+) hook (?<hook>\w+)(?: device \S+)? priority (?<priority>[^;]+);(?: policy (?<policy>\w+);)?/.exec(line);
    if (base?.groups && chain.rules.length === 0 && chain.hook === undefined) {
      chain.type = base.groups.type!;
      chain.hook = base.groups.hook!;
      if (base.groups.policy) chain.policy = base.groups.policy;
      continue;
    }
    chain.rules.push(line);
  }
  if (table || skipping > 0) return { ok: false, reason: 'the nft listing ends inside a block: it was cut' };
  if (ruleset.tables.length === 0 && text.trim() !== '') return { ok: false, reason: 'no table in the nft listing' };
  return { ok: true, value: ruleset };
}
