import type { Evidence } from '../result.ts';

/** One line of /etc/hosts: an address and the names it gives that address (hosts(5)). */
export interface HostsPin {
  address: string;
  /** Lower-cased: resolvers compare host names without regard to case. */
  names: string[];
}

// hosts(5): an IP address, then one or more host names separated by blanks; `#` starts a comment.
const HOSTS_LINE = /^(?<address>[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?)[ \t]+(?<names>[^#]*?)[ \t]*(?:#.*)?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})$/;

/**
 * Parses the `hosts` section: the lines of /etc/hosts the script kept (those naming an istiod-like host or
 * the VM's discovery host), as `istioctl x workload entry configure` writes them (`<ip> istiod.istio-system.svc`).
 * Blank lines and comments count for nothing. Any other line did not come from the script: the section is
 * then unreadable, so that a pin is never half read. Never throws.
 */
export function parseHostsPins(text: string): Evidence<HostsPin[]> {
  const pins: HostsPin[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = HOSTS_LINE.exec(line);
    const address = match?.groups?.address ?? '';
    const names = (match?.groups?.names ?? '').split(/[ \t]+/).filter(Boolean);
    if (!match || !isIpAddress(address) || names.length === 0 || !names.every((name) => HOST_NAME.test(name)))
      return { ok: false, reason: `line ${index + 1} is not an /etc/hosts line ("<address> <name>…")` };
    pins.push({ address, names: names.map((name) => name.toLowerCase()) });
  }
  return { ok: true, value: pins };
}

/** An IPv4 address in dotted-quad form or an IPv6 address (with an optional zone), as /etc/hosts takes them. */
export function isIpAddress(text: string): boolean {
  if (IPV4.test(text)) return true;
  const address = text.split('%')[0]!;
  if (!/^[0-9A-Fa-f:.]+$/.test(address) || !address.includes(':')) return false;
  const groups = address.split('::');
  if (groups.length > 2) return false;
  const parts = groups.flatMap((g) => (g === '' ? [] : g.split(':')));
  const last = parts[parts.length - 1];
  const tailIsV4 = last !== undefined && IPV4.test(last);
  const hexParts = tailIsV4 ? parts.slice(0, -1) : parts;
  if (!hexParts.every((p) => /^[0-9A-Fa-f]{1,4}$/.test(p))) return false;
  const width = hexParts.length + (tailIsV4 ? 2 : 0);
  return groups.length === 2 ? width < 8 : width === 8;
}
