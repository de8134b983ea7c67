/** What the fake VM is by default, and which of its tools the harness fakes or links from the test machine. */

/** Shims written by the harness: each can be left out to play a VM without that tool. */
export const SHIMS = [
  'systemctl',
  'journalctl',
  'hostname',
  'id',
  'dpkg-query',
  'pilot-agent',
  'iptables-save',
  'iptables-legacy-save',
  'iptables-nft-save',
  'ip6tables-save',
  'ip6tables-legacy-save',
  'ip6tables-nft-save',
] as const;
export const IPTABLES_TOOLS = SHIMS.filter((s): s is Extract<(typeof SHIMS)[number], `${string}tables-${string}`> => s.includes('tables-'));
/** Real tools linked onto PATH: what an Istio VM has besides the shimmed ones. */
export const REAL_TOOLS = [
  'cat',
  'head',
  'tail',
  'wc',
  'od',
  'tr',
  'mktemp',
  'rm',
  'grep',
  'awk',
  'stat',
  'date',
  'curl',
  'openssl',
  'timeout',
  'sleep',
] as const;

/** The VM every option left out describes: its name, addresses, identity, Istio release and unit. */
export const VM = {
  hostname: 'foo-1',
  ip: '10.10.10.10',
  ip6: 'fd00:10::10',
  namespace: 'bar',
  serviceAccount: 'vm-serviceaccount',
  istioVersion: '1.24.6',
  proxyUid: 998,
  activeEnterSeconds: 1764138000,
  mainPid: 4242,
  os: 'Debian GNU/Linux 12 (bookworm)',
} as const;

/** An iptables save tool the harness can shim. */
export type IptablesTool = (typeof IPTABLES_TOOLS)[number];
