/** Shims of the netfilter tools: nft and the iptables save family, answering the rules Istio installs or those a test gives. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sq } from './shell-word.ts';
import type { IptablesToolState } from './types.ts';
import { VM } from './vm-defaults.ts';

/** `nft list tables inet` and `nft list table inet NAME` of the given tables; anything else is refused, as a write would be. */
export function nftShim(tables: Record<string, string>, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const cases = Object.entries(tables).map(([name, text]) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return `  "list table inet ${name}") cat ${sq(file)} ;;`;
  });
  return `
case "$*" in
  "list tables inet") printf '%s\\n' ${Object.keys(tables)
    .map((name) => sq(`table inet ${name}`))
    .join(' ')} ;;
${cases.join('\n')}
  "list table "*) echo "Error: No such file or directory; did you mean table 'filter' in family ip?" >&2; exit 1 ;;
  *) echo "nft shim: only listing is expected: $*" >&2; exit 64 ;;
esac`;
}

/** A save tool answering `--version` with its backend and `-t <table>` with the given outputs, byte for byte. */
export function iptablesStateShim(tool: string, state: IptablesToolState, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const cases = Object.entries(state.tables).map(([table, text]) => {
    const file = join(dir, `${tool}.${table}`);
    writeFileSync(file, text ?? '');
    return `  ${table}) cat ${sq(file)} ;;`;
  });
  return `
case "$1" in
  --version | -V) echo "${tool} v1.8.8 (${state.backend})"; exit 0 ;;
  -t) ;;
  *) echo "${tool} shim: only -t TABLE is expected: $*" >&2; exit 64 ;;
esac
case "$2" in
${cases.join('\n')}
  *) echo "${tool}: Table does not exist (do you need to insmod?)" >&2; exit 1 ;;
esac`;
}

/**
 * Live `iptables-save` output for the rules istio-iptables installs on a VM (Istio 1.24.6
 * tools/istio-iptables/pkg/capture/testdata inbound-ports-wildcard and ip-range, with the VM's
 * istio-proxy uid/gid and DNS capture on), in the form iptables-save prints them: chain headers,
 * `-m tcp`, reordered matches.
 */
export function iptablesShim(tool: string): string {
  const v6 = tool.startsWith('ip6');
  const legacy = tool.includes('legacy');
  const backend = legacy ? 'legacy' : 'nf_tables';
  const lo = v6 ? '::1/128' : '127.0.0.1/32';
  const inboundPassthrough = v6 ? '::6/128' : '127.0.0.6/32';
  const uid = VM.proxyUid;
  const dns = v6
    ? []
    : [
        '-A OUTPUT -p udp -j ISTIO_OUTPUT',
        `-A ISTIO_OUTPUT -p udp -m udp --dport 53 -m owner --uid-owner ${uid} -j RETURN`,
        `-A ISTIO_OUTPUT -p udp -m udp --dport 53 -m owner --gid-owner ${uid} -j RETURN`,
        '-A ISTIO_OUTPUT -d 127.0.0.53/32 -p udp -m udp --dport 53 -j REDIRECT --to-ports 15053',
        '-A ISTIO_OUTPUT -d 127.0.0.53/32 -p tcp -m tcp --dport 53 -j REDIRECT --to-ports 15053',
      ];
  const nat = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':ISTIO_INBOUND - [0:0]',
    ':ISTIO_IN_REDIRECT - [0:0]',
    ':ISTIO_OUTPUT - [0:0]',
    ':ISTIO_REDIRECT - [0:0]',
    '-A PREROUTING -p tcp -j ISTIO_INBOUND',
    '-A OUTPUT -p tcp -j ISTIO_OUTPUT',
    ...dns.slice(0, 1),
    '-A ISTIO_INBOUND -p tcp -m tcp --dport 15008 -j RETURN',
    '-A ISTIO_INBOUND -p tcp -m tcp --dport 22 -j RETURN',
    '-A ISTIO_INBOUND -p tcp -m tcp --dport 15090 -j RETURN',
    '-A ISTIO_INBOUND -p tcp -m tcp --dport 15021 -j RETURN',
    '-A ISTIO_INBOUND -p tcp -m tcp --dport 15020 -j RETURN',
    '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT',
    '-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
    `-A ISTIO_OUTPUT -s ${inboundPassthrough} -o lo -j RETURN`,
    `-A ISTIO_OUTPUT ! -d ${lo} -o lo -p tcp -m tcp ! --dport 15008 -m owner --uid-owner ${uid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT ! -d ${lo} -o lo -p tcp -m tcp ! --dport 15008 -m owner --gid-owner ${uid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --gid-owner ${uid} -j RETURN`,
    ...dns.slice(1),
    `-A ISTIO_OUTPUT -d ${lo} -j RETURN`,
    '-A ISTIO_OUTPUT -j ISTIO_REDIRECT',
    '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
    'COMMIT',
  ];
  const raw = v6
    ? ['*raw', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT']
    : [
        '*raw',
        ':PREROUTING ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':ISTIO_OUTPUT - [0:0]',
        '-A PREROUTING -s 127.0.0.53/32 -p udp -m udp --sport 53 -j CT --zone 1',
        '-A OUTPUT -p udp -j ISTIO_OUTPUT',
        `-A ISTIO_OUTPUT -p udp -m udp --dport 53 -m owner --uid-owner ${uid} -j CT --zone 1`,
        `-A ISTIO_OUTPUT -p udp -m udp --sport 15053 -m owner --uid-owner ${uid} -j CT --zone 2`,
        `-A ISTIO_OUTPUT -p udp -m udp --dport 53 -m owner --gid-owner ${uid} -j CT --zone 1`,
        `-A ISTIO_OUTPUT -p udp -m udp --sport 15053 -m owner --gid-owner ${uid} -j CT --zone 2`,
        '-A ISTIO_OUTPUT -d 127.0.0.53/32 -p udp -m udp --dport 53 -j CT --zone 2',
        'COMMIT',
      ];
  const mangle = [
    '*mangle',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    'COMMIT',
  ];
  const empty = (table: string) => [`*${table}`, 'COMMIT'];
  // The Istio rules live in nf_tables; the legacy backend only holds built-in chains.
  const tables: Record<string, string[]> = legacy
    ? { nat: empty('nat'), raw: empty('raw'), mangle, filter: [...empty('filter')] }
    : { nat, raw, mangle, filter: ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT'] };
  const saveName = legacy ? tool : tool.replace('-nft-save', '-save').replace('-save', '-nft-save');
  const cases = Object.entries(tables)
    .map(
      ([name, lines]) =>
        `  ${name}) cat <<'EOF'\n# Generated by ${saveName} v1.8.9 (${backend}) on Wed Nov 26 06:20:00 2026\n${lines.join('\n')}\n# Completed on Wed Nov 26 06:20:00 2026\nEOF\n  ;;`,
    )
    .join('\n');
  return `
case "$1" in
  --version | -V) echo "${tool} v1.8.9 (${backend})"; exit 0 ;;
  -t) ;;
  *) echo "${tool} shim: only -t TABLE is expected: $*" >&2; exit 64 ;;
esac
case "$2" in
${cases}
  *) echo "${tool}: Table does not exist (do you need to insmod?)" >&2; exit 1 ;;
esac`;
}
