/**
 * Istio's istio-nftables golden files (tools/istio-nftables/pkg/capture/testdata/*.golden) hold the
 * `nft -f` input the capture applies: `add table`, `add chain … { type … hook … priority … ; }`,
 * `add rule`, `insert rule … index N`. This replays it and prints each table as `nft list table inet
 * <name>` does (nft(8), "LIST"): the table block, one block per chain with its base-chain line, rules
 * one a line, tabs for indentation; a host prefix is printed as the bare address, skuid/skgid as meta
 * expressions and interface names quoted, as nft prints them back.
 */
interface ReplayedChain {
  base?: { type: string; hook: string; priority: string };
  rules: string[];
}

/** nft's names for the standard priorities of the hooks Istio uses (nft(8), "CHAINS"). */
const PRIORITY_NAMES: Record<string, string> = {
  'nat prerouting -100': 'dstnat',
  'filter prerouting -150': 'mangle',
  'route output -150': 'mangle',
  'filter prerouting -300': 'raw',
  'filter output -300': 'raw',
};

export function nftGoldenAsListing(golden: string, uid?: number): Record<string, string> {
  const tables = new Map<string, Map<string, ReplayedChain>>();
  for (const raw of golden.split('\n')) {
    const line = uid === undefined ? raw.trim() : raw.trim().replace(/\b(skuid|skgid)( != | )1337\b/g, `$1$2${uid}`);
    const table = /^add table inet (?<name>\S+)$/.exec(line);
    if (table?.groups) {
      if (!tables.has(table.groups.name!)) tables.set(table.groups.name!, new Map());
      continue;
    }
    const chain =
      /^add chain inet (?<table>\S+) (?<name>\S+)(?: \{ type (?<type>\w+) hook (?<hook>\w+) priority (?<priority>-?\d+) ; \})?$/.exec(line);
    if (chain?.groups) {
      const { table: t, name, type, hook, priority } = chain.groups;
      tables.get(t!)!.set(name!, { rules: [], ...(type ? { base: { type, hook: hook!, priority: priority! } } : {}) });
      continue;
    }
    const rule = /^(?<op>add|insert) rule inet (?<table>\S+) (?<chain>\S+)(?: index (?<index>\d+))? (?<expr>.+)$/.exec(line);
    if (rule?.groups) {
      const rules = tables.get(rule.groups.table!)!.get(rule.groups.chain!)!.rules;
      const expr = printed(rule.groups.expr!);
      if (rule.groups.op === 'insert') rules.splice(Number(rule.groups.index ?? 0), 0, expr);
      else rules.push(expr);
    }
  }
  return Object.fromEntries(
    [...tables].map(([name, chains]) => {
      const blocks = [...chains].map(([chainName, c]) => {
        const base = c.base
          ? [
              `\t\ttype ${c.base.type} hook ${c.base.hook} priority ${PRIORITY_NAMES[`${c.base.type} ${c.base.hook} ${c.base.priority}`] ?? c.base.priority}; policy accept;`,
            ]
          : [];
        return [`\tchain ${chainName} {`, ...base, ...c.rules.map((r) => `\t\t${r}`), '\t}'].join('\n');
      });
      return [name, `table inet ${name} {\n${blocks.join('\n\n')}\n}\n`];
    }),
  );
}

/** A rule expression as nft lists it back. */
function printed(expr: string): string {
  return expr
    .replace(/\b((?:\d{1,3}\.){3}\d{1,3})\/32\b/g, '$1')
    .replace(/(\s)([0-9a-f:]*::[0-9a-f:.]*)\/128\b/g, '$1$2')
    .replace(/(^|\s)(?:meta )?(skuid|skgid)\b/g, '$1meta $2')
    .replace(/\b(iifname|oifname) (!= )?([^\s"]+)/g, '$1 $2"$3"');
}
