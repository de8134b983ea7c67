import type { Evidence } from '../result.ts';

/** A match that may be negated with `!` (iptables(8): `[!] -d address`). */
export interface Match {
  value: string;
  negated: boolean;
}

/** One rule of `iptables-save`, with the matches the controls reason about pulled out. */
export interface IptablesRule {
  table: string;
  chain: string;
  protocol?: Match;
  source?: Match;
  destination?: Match;
  inInterface?: Match;
  outInterface?: Match;
  /** `--dport` or multiport `--dports`, as written (`53`, `15008`, `53,15008`). */
  dport?: Match;
  sport?: Match;
  uidOwner?: Match;
  gidOwner?: Match;
  target?: string;
  /** `--to-ports` / `--to-port` of a REDIRECT, `--on-port` of a TPROXY. */
  toPorts?: string;
  /** The rule as it was printed, for evidence. */
  text: string;
}

export interface IptablesRuleset {
  /** table → chain → policy (`ACCEPT`…, or `-` for a user chain), from the `:CHAIN POLICY [p:b]` lines. */
  chains: Map<string, Map<string, string>>;
  rules: IptablesRule[];
}

const OPTION_FIELDS: Record<string, keyof IptablesRule> = {
  '-p': 'protocol',
  '--protocol': 'protocol',
  '-s': 'source',
  '--source': 'source',
  '-d': 'destination',
  '--destination': 'destination',
  '-i': 'inInterface',
  '--in-interface': 'inInterface',
  '-o': 'outInterface',
  '--out-interface': 'outInterface',
  '--dport': 'dport',
  '--destination-port': 'dport',
  '--dports': 'dport',
  '--destination-ports': 'dport',
  '--sport': 'sport',
  '--source-port': 'sport',
  '--sports': 'sport',
  '--uid-owner': 'uidOwner',
  '--gid-owner': 'gidOwner',
};

/**
 * Parses `iptables-save` / `ip6tables-save` output (iptables-save(8): `*table`, `:CHAIN POLICY [p:b]`,
 * `-A CHAIN …` rules, `COMMIT`). Live output adds `-m tcp`, reorders matches and prints addresses with
 * their prefix length, so rules are read into fields rather than compared as text. Never throws.
 */
export function parseIptablesSave(text: string, rules: RuleSource = parseRule): Evidence<IptablesRuleset> {
  const ruleset: IptablesRuleset = { chains: new Map(), rules: [] };
  let table: string | undefined;
  let sawTable = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const tableHeader = /^\*(?<name>[a-z]{1,16})$/.exec(line);
    if (tableHeader?.groups) {
      table = tableHeader.groups.name!;
      sawTable = true;
      if (!ruleset.chains.has(table)) ruleset.chains.set(table, new Map());
      continue;
    }
    if (line === 'COMMIT') {
      table = undefined;
      continue;
    }
    if (!table) continue;
    const chain = /^:(?<name>\S{1,64}) (?<policy>\S{1,16})/.exec(line);
    if (chain?.groups) {
      ruleset.chains.get(table)!.set(chain.groups.name!, chain.groups.policy!);
      continue;
    }
    const rule = rules(table, line);
    if (rule) ruleset.rules.push(rule);
  }
  // An empty answer is normal: the legacy backend prints nothing when no legacy table is loaded.
  if (!sawTable && text.trim() !== '') return { ok: false, reason: 'no table in the iptables-save output' };
  return { ok: true, value: ruleset };
}

/**
 * Where a ruleset's rules come from: parseRule, or a source that hands back a rule it already read from
 * the same line of the same table (the same rule repeats on every VM of a fleet: snapshot-pool.ts).
 */
export type RuleSource = (table: string, line: string) => IptablesRule | undefined;

/** One `-A CHAIN …` line of a table as a rule; undefined for any other line. */
export function parseRule(table: string, line: string): IptablesRule | undefined {
  const tokens = tokenize(line);
  if (tokens[0] !== '-A' || !tokens[1]) return undefined;
  const rule: IptablesRule = { table, chain: tokens[1], text: line };
  let negate = false;
  for (let i = 2; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '!') {
      negate = true;
      continue;
    }
    const field = OPTION_FIELDS[token];
    if (field) {
      let value = tokens[++i] ?? '';
      // The old form `-d ! address` puts the negation after the option.
      if (value === '!') {
        negate = true;
        value = tokens[++i] ?? '';
      }
      (rule as unknown as Record<string, Match>)[field] = { value: normalizeValue(field, value), negated: negate };
    } else if (token === '-j' || token === '--jump' || token === '-g' || token === '--goto') {
      rule.target = tokens[++i];
    } else if (token === '--to-ports' || token === '--to-port' || token === '--on-port') {
      rule.toPorts = tokens[++i];
    }
    negate = false;
  }
  return rule;
}

function normalizeValue(field: keyof IptablesRule, value: string): string {
  return field === 'source' || field === 'destination' ? normalizeAddress(value) : value;
}

/** An address as `address/prefix`: a host address gets its full-length prefix, as iptables-save prints it. */
export function normalizeAddress(value: string): string {
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(value)) return `${value}/32`;
  if (/^[0-9a-fA-F:]+$/.test(value) && value.includes(':')) return `${value.toLowerCase()}/128`;
  return value.toLowerCase();
}

/** Splits a rule into words, honouring the double quotes iptables-save puts around comments. */
function tokenize(line: string): string[] {
  const tokens: string[] = [];
  for (const match of line.matchAll(/"(?<quoted>(?:[^"\\]|\\.)*)"|(?<word>\S+)/g)) tokens.push(match.groups!.quoted ?? match.groups!.word!);
  return tokens;
}
