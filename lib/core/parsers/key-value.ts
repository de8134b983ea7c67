/**
 * Parses `key=value` lines as the diagnostic script prints them (identity, readiness, systemd's
 * `systemctl show` output). The first `=` splits; later duplicates win, as with `systemctl show`.
 * Lines without `=` are ignored. Never throws.
 */
export function parseKeyValueLines(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(?<key>[A-Za-z_][A-Za-z0-9_.-]*)=(?<value>.*)$/.exec(line.replace(/\r$/, ''));
    if (match?.groups) values.set(match.groups.key!, match.groups.value!);
  }
  return values;
}

/**
 * Parses `/var/lib/istio/envoy/cluster.env`. `istioctl x workload entry configure` writes sorted
 * `KEY='value'` lines (istioctl/pkg/workload/testdata/vmconfig/ipv4/cluster.env.golden); hand-edited
 * files also use `KEY=value`, `KEY="value"`, `export KEY=…` and `#` comments, since the file is sourced
 * by a shell on the VM. Never throws; a line it cannot read is skipped.
 */
export function parseClusterEnv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?(?<key>[A-Za-z_][A-Za-z0-9_]*)=(?<value>.*)$/.exec(line);
    if (!match?.groups) continue;
    values.set(match.groups.key!, unquoteShellWord(match.groups.value!));
  }
  return values;
}

/** Removes one level of POSIX shell quoting from a simple word (no expansions are performed). */
function unquoteShellWord(word: string): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    const c = word[i]!;
    if (c === "'") {
      const close = word.indexOf("'", i + 1);
      if (close < 0) return out + word.slice(i + 1);
      out += word.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      i++;
      while (i < word.length && word[i] !== '"') {
        if (word[i] === '\\' && i + 1 < word.length && '"\\$`'.includes(word[i + 1]!)) i++;
        out += word[i];
        i++;
      }
      i++;
    } else if (c === '\\' && i + 1 < word.length) {
      out += word[i + 1];
      i += 2;
    } else if (c === '#' && (i === 0 || /\s/.test(word[i - 1]!))) {
      break;
    } else if (/\s/.test(c)) {
      // An unquoted blank ends the word (`KEY=a # comment`).
      break;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
