/** The fake VM's filesystem root (the script's FLEET_AUDIT_ROOT): Istio's files, its logs, its certificates and the kernel's tables. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { realTool } from './host-tools.ts';
import { signJwt, type Pki } from './test-pki.ts';
import { fixture, lines, write } from './text-files.ts';
import type { FakeVmOptions } from './types.ts';
import { VM } from './vm-defaults.ts';

/** Writes every file of the root the script reads, as the options describe them. */
export function writeRoot(root: string, pki: Pki, options: FakeVmOptions): void {
  write(join(root, 'etc/os-release'), `PRETTY_NAME="${options.os ?? VM.os}"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n`);
  // What istioctl x workload entry configure writes, as installed on the VM.
  const clusterEnv = options.clusterEnv ?? fixture('cluster.env');
  write(join(root, 'var/lib/istio/envoy/cluster.env'), clusterEnv + (options.clusterEnvExtra ?? ''));
  if (options.sidecarEnv !== undefined) write(join(root, 'var/lib/istio/envoy/sidecar.env'), options.sidecarEnv);
  let mesh = options.meshConfig ?? fixture('mesh.yaml');
  if (options.meshBytes) {
    const pad: string[] = [];
    for (let i = 0; mesh.length + pad.join('').length < options.meshBytes; i++) pad.push(`    PADDING_${i}: "${'x'.repeat(60)}"\n`);
    mesh = mesh.replace('  proxyMetadata:\n', `  proxyMetadata:\n${pad.join('')}`);
  }
  write(join(root, 'etc/istio/config/mesh'), mesh);
  write(join(root, 'etc/hosts'), options.etcHosts ?? fixture('hosts'));

  const certs = join(root, options.certsDir ?? '/etc/certs');
  if (!options.noCerts && options.certificates) {
    const { chainPem, rootPem, keyPem, mtime } = options.certificates;
    write(join(certs, 'cert-chain.pem'), chainPem + (options.keyInCertChain ? keyPem : ''), 0o644, mtime);
    write(join(certs, 'root-cert.pem'), rootPem, 0o644, mtime);
    write(join(certs, 'key.pem'), options.keyMismatch ? pki.otherKeyPem : keyPem, options.keyMode ?? 0o600, mtime);
  } else if (!options.noCerts) {
    const chain = pki.leafPem + pki.rootPem + (options.keyInCertChain ? pki.keyPem : '');
    write(join(certs, 'cert-chain.pem'), chain);
    write(join(certs, 'root-cert.pem'), pki.rootPem);
    write(join(certs, 'key.pem'), options.keyMismatch ? pki.otherKeyPem : pki.keyPem, options.keyMode ?? 0o600);
  }
  if (!options.noToken && options.token) {
    write(join(root, 'var/run/secrets/tokens/istio-token'), signJwt(options.token.claims, pki.otherKeyPem), 0o640, options.token.mtime);
  } else if (!options.noToken) {
    write(join(root, 'var/run/secrets/tokens/istio-token'), pki.jwt, 0o640);
  }

  if (options.istioLog) write(join(root, 'var/log/istio/istio.log'), lines(options.istioLog));
  else writeDefaultIstioLog(root, options);
  write(
    join(root, 'var/log/istio/istio.err.log'),
    options.istioErrLog
      ? lines(options.istioErrLog)
      : '[2026-11-26 06:20:00.900][21][warning][config] [source/extensions/config_subscription/grpc/grpc_stream.h:152] StreamAggregatedResources gRPC config stream closed: 14, connection error: desc = "transport: Error while dialing: dial tcp 10.100.0.12:15012: connect: connection refused"\n',
  );

  if (options.legacyTables) {
    write(join(root, 'proc/net/ip_tables_names'), lines(options.legacyTables.ipv4));
    write(join(root, 'proc/net/ip6_tables_names'), lines(options.legacyTables.ipv6));
  } else {
    // Legacy iptables has only filter and mangle loaded (IPv4) and nothing for IPv6.
    write(join(root, 'proc/net/ip_tables_names'), 'filter\nmangle\n');
  }

  const nfTables = options.nfTables ?? 'proc-modules';
  write(
    join(root, 'proc/modules'),
    lines(
      [
        'nft_chain_nat 16384 4 - Live 0x0000000000000000',
        'xt_REDIRECT 16384 4 - Live 0x0000000000000000',
        'nf_nat 49152 3 nft_chain_nat,xt_nat,xt_REDIRECT, Live 0x0000000000000000',
        ...(nfTables === 'proc-modules'
          ? ['nf_tables 282624 152 nft_compat,nft_chain_nat, Live 0x0000000000000000']
          : ['ip_tables 32768 0 - Live 0x0000000000000000']),
        'nfnetlink 20480 4 nft_compat,nf_tables, Live 0x0000000000000000',
        'x_tables 53248 7 xt_owner,xt_REDIRECT,nft_compat,xt_tcpudp, Live 0x0000000000000000',
      ].filter((l) => nfTables !== 'not-loaded' || !l.includes('nf_tables')),
    ),
  );
  if (nfTables === 'sysfs') mkdirSync(join(root, 'sys/module/nf_tables'), { recursive: true });

  for (const [path, kind] of Object.entries(options.special ?? {})) {
    const target = join(root, path);
    mkdirSync(join(target, '..'), { recursive: true });
    rmSync(target, { force: true });
    if (kind === 'fifo') execFileSync(realTool('mkfifo'), [target]);
    else symlinkSync('/dev/zero', target);
  }
}

/** pilot-agent's log of a start that succeeded, after `logFillerLines` lines of filler and before `logLines`. */
function writeDefaultIstioLog(root: string, options: FakeVmOptions): void {
  const log: string[] = [];
  for (let i = 0; i < (options.logFillerLines ?? 0); i++) {
    log.push(`2026-11-26T06:${String(Math.floor(i / 600) % 60).padStart(2, '0')}:00.000000Z\tinfo\tads\tADS: new connection for node:${i}`);
  }
  log.push(
    '2026-11-26T06:20:00.101000Z\tinfo\tFIPS mode is disabled',
    '2026-11-26T06:20:00.207000Z\tinfo\tsds\tStarting SDS grpc server',
    `2026-11-26T06:20:01.000000Z\twarn\txdsproxy\tupstream [1] terminated with unexpected error rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.100.0.12:15012: connect: connection refused"`,
    '2026-11-26T06:20:03.000000Z\tinfo\tcache\tgenerated new workload certificate\tlatency=88.1ms ttl=23h59m59s',
    '2026-11-26T06:20:04.000000Z\tinfo\tReadiness succeeded in 3.01s',
    ...(options.logLines ?? []),
  );
  write(join(root, 'var/log/istio/istio.log'), `${log.join('\n')}\n`);
}
