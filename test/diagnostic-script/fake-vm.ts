/**
 * A fake Istio VM for running the real diagnostic script: a temp root holding Istio's files (the
 * script's FLEET_AUDIT_ROOT), a directory of POSIX sh shims standing in for systemctl, journalctl, the
 * iptables-save family, hostname, id, dpkg-query and pilot-agent, a directory of links to the real basic
 * tools the VM is allowed to have, and a loopback HTTP server answering as Envoy's admin port and the
 * agent's readiness port. PATH holds only the two directories, so "tool missing" means not linking it.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import {
  accessSync,
  constants,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  lstatSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { healthyClusterStatuses } from './fake-envoy-clusters.ts';

const execFileAsync = promisify(execFile);

export const SCRIPT_PATH = new URL('../../lib/diagnostic-script/fleet-audit-diagnostics.sh', import.meta.url).pathname;
// Istio 1.24.6 test data; test/fixtures/fake-vm/README.md says where each file comes from.
const FIXTURES = new URL('../fixtures/fake-vm/', import.meta.url).pathname;

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

export type ShellName = 'dash' | 'bash' | 'busybox';
export const SHELLS: readonly ShellName[] = ['dash', 'bash', 'busybox'];

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

export interface FakeVmOptions {
  /** The istio unit: running (default), stopped, or not installed. */
  unit?: 'running' | 'stopped' | 'not-found';
  /** systemd older than 248: refuses --timestamp=unix and prints local-format timestamps. */
  oldSystemd?: boolean;
  /** What the agent's readiness port does; 'refused' points the script at a closed port. */
  readiness?: 200 | 503 | 'refused';
  /** 'refused' points the script at a closed port for Envoy's admin. */
  envoy?: 'up' | 'refused';
  /** Shims or real tools to leave off PATH. */
  without?: string[];
  keyMode?: number;
  /** key.pem holds a key that is not the leaf certificate's. */
  keyMismatch?: boolean;
  /** cert-chain.pem also holds the private key, as bundle files sometimes do. */
  keyInCertChain?: boolean;
  /** Lines appended to cluster.env. */
  clusterEnvExtra?: string;
  /** Lines the journal of the istio unit holds after the start script's line. */
  journalLines?: string[];
  /** Lines appended to /var/log/istio/istio.log. */
  logLines?: string[];
  /** Lines of filler written to istio.log before logLines. */
  logFillerLines?: number;
  /** Pad the mesh config to at least this many bytes. */
  meshBytes?: number;
  /** Pad the active clusters dump to at least this many bytes. */
  clustersBytes?: number;
  noCerts?: boolean;
  /** The directory the certificates are written to (OUTPUT_CERTS), in place of /etc/certs. */
  certsDir?: string;
  noToken?: boolean;
  /**
   * Files of the root (paths relative to it) replaced by something a reader must not open or read to
   * the end: a named pipe nobody writes to, or a link to /dev/zero.
   */
  special?: Record<string, 'fifo' | 'dev-zero'>;
  /**
   * Whether the nf_tables module is loaded, and where that shows: listed in /proc/modules (the default),
   * only as /sys/module/nf_tables (no /proc/modules line), or not at all.
   */
  nfTables?: 'proc-modules' | 'sysfs' | 'not-loaded';
  /** Tools (shimmed or real) that never answer, as a tool stuck on D-Bus, NSS or an rpm lock does. */
  hang?: string[];
  /** The hung tools ignore SIGTERM, so that only a SIGKILL ends them. */
  hangIgnoresTerm?: boolean;
  /**
   * The `timeout` on PATH: coreutils' (the default) or busybox's, answering every duration it is given
   * as `seconds` for a hung tool so that a test of it takes a second instead of ten; the tools that
   * answer keep the durations the script gives, so a busy test machine does not make them time out.
   */
  timeout?: { tool: 'coreutils' | 'busybox'; seconds: number };
  /** The awk on PATH: the test machine's (the default) or busybox's applet, as a busybox-only VM has. */
  awk?: 'system' | 'busybox';
  /** Extra keys of Envoy's node.metadata in /server_info (as ISTIO_META_* variables put there). */
  envoyMetadata?: Record<string, unknown>;

  // The options below describe any VM in full (a simulated one, say); each one left out keeps the VM
  // above.
  /** `hostname -s`. */
  hostname?: string;
  /** Every address of the VM's interfaces; `hostname -I` prints them but loopback and IPv6 link-local ones. */
  addresses?: string[];
  /** PRETTY_NAME of /etc/os-release. */
  os?: string;
  /** The istio-proxy user, as `id -u/-g istio-proxy` answers. */
  proxyUid?: number;
  proxyGid?: number;
  /** The VM's clock: `date -u +%s` answers this epoch second instead of the test machine's time. */
  clock?: number;
  /** The clock `date +%s` reads (the script's measure of its budget) advances by this many seconds at each read. */
  clockStep?: number;
  /**
   * Who owns the files `stat` describes. The test cannot chown to the VM's istio-proxy user, so a `stat`
   * shim runs the real stat and answers this owner in place of %u, %g and %U.
   */
  fileOwner?: { uid: number; gid: number; name: string };
  /** `systemctl show istio` property lines, in place of the ones `unit` and `oldSystemd` give. */
  systemdProperties?: string[];
  /** The whole output of `journalctl -u istio`, in place of the start script's line and journalLines. */
  journal?: string[];
  /** The whole of /var/log/istio/istio.log, in place of the default lines, logFillerLines and logLines. */
  istioLog?: string[];
  /** The whole of /var/log/istio/istio.err.log. */
  istioErrLog?: string[];
  /** The whole of cluster.env, in place of the fixture (clusterEnvExtra is still appended). */
  clusterEnv?: string;
  /** /var/lib/istio/envoy/sidecar.env, which istio-start.sh sources before cluster.env; none when left out. */
  sidecarEnv?: string;
  /** The whole of /etc/istio/config/mesh, in place of the fixture. */
  meshConfig?: string;
  /** The whole of /etc/hosts, in place of the fixture (the line `istioctl x workload entry configure` writes). */
  etcHosts?: string;
  /** What Envoy's /server_info says of its node and uptime. */
  envoyNode?: EnvoyNode;
  /** Every stat Envoy holds; /stats answers those its filter selects. */
  envoyStats?: Record<string, number>;
  /** The SDS secrets Envoy holds, in place of the test PKI's. */
  envoySecrets?: EnvoySecrets;
  /** Envoy's dynamic clusters, in place of the default ones; `{}` answers a list left empty. */
  envoyClusters?: { active: EnvoyCluster[]; warming: EnvoyCluster[] };
  /** The body of Envoy's `/clusters?format=json`, in place of healthyClusterStatuses' (fake-envoy-clusters.ts). */
  envoyClusterStatuses?: string;
  /**
   * The iptables save tools the VM has, each with its backend and what `<tool> -t <table>` prints for
   * each table; a table left out does not exist. Tools left out are not installed.
   */
  iptables?: Partial<Record<IptablesTool, IptablesToolState>>;
  /**
   * `nft` is installed, holding these inet tables: name → what `nft list table inet <name>` prints.
   * Left out, the VM has no nft.
   */
  nftTables?: Record<string, string>;
  /** /proc/net/ip_tables_names and ip6_tables_names: the tables legacy iptables has loaded. */
  legacyTables?: { ipv4: string[]; ipv6: string[] };
  /** The /etc/certs files, in place of the test PKI's, with their modification time. */
  certificates?: { chainPem: string; rootPem: string; keyPem: string; mtime: number };
  /** The claims of the istio-token JWT (signed with a test key) and the file's modification time. */
  token?: { claims: Record<string, unknown>; mtime: number };
  /** Which package manager knows istio-sidecar (default dpkg), and the versions installed. */
  packageManager?: 'dpkg' | 'rpm';
  packageVersion?: string;
  pilotAgentVersion?: string;
}

export type IptablesTool = (typeof IPTABLES_TOOLS)[number];

export interface IptablesToolState {
  backend: 'nf_tables' | 'legacy';
  /** Table name → the tool's whole output for `-t <table>`, comment lines included. */
  tables: Partial<Record<string, string>>;
}

export interface EnvoyNode {
  ip: string;
  hostname: string;
  namespace: string;
  /** `node.cluster`: `<workload name>.<namespace>`. */
  cluster: string;
  istioVersion: string;
  uptimeSeconds: number;
}

export interface EnvoySecrets {
  /** The `default` secret's certificate chain. */
  chainPem: string;
  /** The `ROOTCA` secret's trusted CA. */
  rootPem: string;
  /** The SDS response's version, as the agent's SDS server chose it. */
  versionInfo: string;
  lastUpdated: Date;
}

export interface EnvoyCluster {
  name: string;
  /** envoy.config.cluster.v3.Cluster.DiscoveryType. */
  type: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST';
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface FakeVm {
  root: string;
  /** The environment the script runs with: nothing else is inherited. */
  env: Record<string, string>;
  /** Temp directory of the script's runs; its mktemp directory must be gone afterwards. */
  tmp: string;
  pki: Pki;
  /** Every shim invocation, "name args…", in order. */
  calls(): string[];
  /** Every HTTP request the fake Envoy/agent received (path with query). */
  requests: string[];
  /**
   * Runs the script file, or with `stdin` feeds it to the shell on stdin as `fleet-audit script | ssh vm sudo sh` does.
   * `deadlineMs` kills the run (code null) if it has not ended by then; `fileSizeBlocks` and `memoryKb`
   * are the shell's `ulimit -f` (512-byte blocks) and `ulimit -v`, so that a run that would fill the
   * disk or the memory is stopped instead.
   */
  run(shell: ShellName, how?: RunOptions): Promise<RunResult>;
  /** A digest of every path, mode, owner, size, time and content under the root. */
  hashRoot(): string;
  close(): Promise<void>;
}

export interface RunOptions {
  stdin?: boolean;
  /** Variables added to the VM's environment for this run. */
  env?: Record<string, string>;
  deadlineMs?: number;
  fileSizeBlocks?: number;
  memoryKb?: number;
}

export interface Pki {
  rootPem: string;
  leafPem: string;
  keyPem: string;
  otherKeyPem: string;
  /** header.payload.signature, signed RS256 with a real key. */
  jwt: string;
  jwtClaims: Record<string, unknown>;
}

let pkiPromise: Promise<Pki> | undefined;

/** A CA, a leaf with its key and a second unrelated key, made once per test file with the openssl CLI. */
export function testPki(): Promise<Pki> {
  pkiPromise ??= makePki();
  return pkiPromise;
}

async function makePki(): Promise<Pki> {
  const openssl = findOnPath('openssl');
  if (!openssl) throw new Error('openssl is not installed (apt-get install -y openssl)');
  const dir = mkdtempSync(join(tmpdir(), 'fa-pki-'));
  try {
    const run = (...args: string[]) => execFileAsync(openssl, args, { cwd: dir });
    const rsa = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
    await Promise.all([
      run('genpkey', ...rsa, '-out', 'ca.key'),
      run('genpkey', ...rsa, '-out', 'key.pem'),
      run('genpkey', ...rsa, '-out', 'other.key'),
    ]);
    await run('req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '3650', '-subj', '/O=cluster.local', '-out', 'root-cert.pem');
    await run('req', '-new', '-key', 'key.pem', '-subj', '/O=', '-out', 'leaf.csr');
    writeFileSync(
      join(dir, 'ext.cnf'),
      `subjectAltName=critical,URI:spiffe://cluster.local/ns/${VM.namespace}/sa/${VM.serviceAccount}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`,
    );
    await run(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'root-cert.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      '0x6fbee254c22900615cb1f74e3d2f1713',
      '-days',
      '1',
      '-sha256',
      '-extfile',
      'ext.cnf',
      '-out',
      'leaf.pem',
    );
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const now = Math.floor(Date.now() / 1000);
    const jwtClaims = {
      aud: ['istio-ca'],
      exp: now + 3600,
      iat: now,
      iss: 'https://kubernetes.default.svc.cluster.local',
      'kubernetes.io': {
        namespace: VM.namespace,
        serviceaccount: { name: VM.serviceAccount, uid: '8c2a4c4e-3e5b-4c21-9d1f-7f0f1f1a2b3c' },
      },
      nbf: now,
      sub: `system:serviceaccount:${VM.namespace}:${VM.serviceAccount}`,
    };
    const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
    const signingInput = `${b64url(JSON.stringify({ alg: 'RS256', kid: 'fake-vm-signing-key' }))}.${b64url(JSON.stringify(jwtClaims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), createPrivateKey(read('ca.key'))).toString('base64url');
    return {
      rootPem: read('root-cert.pem'),
      leafPem: read('leaf.pem'),
      keyPem: read('key.pem'),
      otherKeyPem: read('other.key'),
      jwt: `${signingInput}.${signature}`,
      jwtClaims,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The absolute path of a program on the test machine's PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** How to start a shell; throws (so the test fails, never skips) when it is not installed. */
export function shellCommand(shell: ShellName): { file: string; args: string[] } {
  const file = findOnPath(shell);
  if (!file) throw new Error(`${shell} is not installed: apt-get install -y ${shell}`);
  return shell === 'busybox' ? { file, args: ['sh'] } : { file, args: [] };
}

/** Builds a fake VM for one scenario and starts its HTTP server on 127.0.0.1. */
export async function createFakeVm(options: FakeVmOptions = {}): Promise<FakeVm> {
  const pki = await testPki();
  const base = mkdtempSync(join(tmpdir(), 'fa-vm-'));
  const root = join(base, 'root');
  const shimDir = join(base, 'shims');
  const toolDir = join(base, 'tools');
  const tmp = join(base, 'tmp');
  const callsLog = join(base, 'calls.log');
  for (const d of [root, shimDir, toolDir, tmp]) mkdirSync(d, { recursive: true });
  writeFileSync(callsLog, '');
  const without = new Set(options.without ?? []);

  writeRoot(root, pki, options);
  writeShims(shimDir, base, callsLog, options, without);
  // These real tools are reached through a shim instead, which knows where the real one is.
  const shimmed = new Set([
    ...(options.clock === undefined && options.clockStep === undefined ? [] : ['date']),
    ...(options.fileOwner ? ['stat'] : []),
    ...(options.hang ?? []),
    ...(options.timeout ? ['timeout'] : []),
    ...(options.awk === 'busybox' ? ['awk'] : []),
  ]);
  for (const tool of REAL_TOOLS) {
    if (without.has(tool) || shimmed.has(tool)) continue;
    const real = findOnPath(tool);
    if (!real) throw new Error(`${tool} is not installed on the test machine`);
    symlinkSync(real, join(toolDir, tool));
  }

  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${url.pathname}${url.search}`);
    const answer = envoyAnswer(url, pki, options);
    res.writeHead(answer.status, { 'content-type': answer.type });
    res.end(answer.body);
  });
  const port = await listen(server);
  const closedPort = await unusedPort();
  const envoyPort = options.envoy === 'refused' ? closedPort : port;
  const readyPort = options.readiness === 'refused' ? closedPort : port;

  const env = {
    PATH: `${shimDir}:${toolDir}`,
    FLEET_AUDIT_ROOT: root,
    ENVOY_ADMIN_URL: `http://127.0.0.1:${envoyPort}`,
    AGENT_READY_URL: `http://127.0.0.1:${readyPort}/healthz/ready`,
    TMPDIR: tmp,
    HOME: tmp,
  };

  return {
    root,
    env,
    tmp,
    pki,
    requests,
    calls: () => readFileSync(callsLog, 'utf8').split('\n').filter(Boolean),
    run: (shell, how) => runScript(shell, { ...env, ...how?.env }, base, how ?? {}),
    hashRoot: () => hashTree(root),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

function runScript(shell: ShellName, env: Record<string, string>, cwd: string, how: RunOptions): Promise<RunResult> {
  const { file, args } = shellCommand(shell);
  const stdin = how.stdin ?? false;
  const argv = stdin ? args : [...args, SCRIPT_PATH];
  // Limits are set by a shell that then becomes the one under test.
  const limits = [
    how.fileSizeBlocks === undefined ? '' : `ulimit -f ${how.fileSizeBlocks} && `,
    how.memoryKb === undefined ? '' : `ulimit -v ${how.memoryKb} && `,
  ].join('');
  const [command, commandArgs] = limits ? ['/bin/sh', ['-c', `${limits}exec "$@"`, 'sh', file, ...argv]] : [file, argv];
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the fake Envoy answers from this same process. Detached, so that a
    // deadline kills the shell and everything it started.
    const child = spawn(command, commandArgs, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: how.deadlineMs !== undefined });
    if (stdin) child.stdin.end(readFileSync(SCRIPT_PATH));
    else child.stdin.end();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const deadline =
      how.deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              // already gone
            }
          }, how.deadlineMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** A loopback port nothing listens on: bound once, then released. */
async function unusedPort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function write(path: string, content: string, mode = 0o644, mtime?: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
  if (mtime !== undefined) utimesSync(path, mtime, mtime);
}

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

function writeRoot(root: string, pki: Pki, options: FakeVmOptions): void {
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

/** Lines as a file holds them: each ended by a newline. */
function lines(items: readonly string[]): string {
  return items.map((line) => `${line}\n`).join('');
}

/** header.payload.signature, RS256: nobody on the VM checks the signature, but the token has one. */
function signJwt(claims: Record<string, unknown>, keyPem: string): string {
  const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
  const signingInput = `${b64url(JSON.stringify({ alg: 'RS256', kid: 'fake-vm-signing-key' }))}.${b64url(JSON.stringify(claims))}`;
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), createPrivateKey(keyPem)).toString('base64url')}`;
}

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

/** POSIX sh shims; each records its invocation and answers like the real tool on an Istio VM. */
function writeShims(dir: string, base: string, callsLog: string, options: FakeVmOptions, without: Set<string>): void {
  const unit = options.unit ?? 'running';
  const stamp = options.oldSystemd ? 'Tue 2025-11-26 06:20:00 UTC' : `@${VM.activeEnterSeconds}`;
  const systemdProps =
    options.systemdProperties ??
    (unit === 'not-found'
      ? [
          'LoadState=not-found',
          'ActiveState=inactive',
          'SubState=dead',
          'UnitFileState=',
          'NRestarts=0',
          'ActiveEnterTimestamp=',
          'MainPID=0',
        ]
      : [
          'LoadState=loaded',
          `ActiveState=${unit === 'running' ? 'active' : 'inactive'}`,
          `SubState=${unit === 'running' ? 'running' : 'dead'}`,
          'UnitFileState=enabled',
          'NRestarts=0',
          `ActiveEnterTimestamp=${unit === 'running' ? stamp : ''}`,
          `MainPID=${unit === 'running' ? VM.mainPid : 0}`,
        ]);
  // Kept outside the root: the journal is not a file the script reads.
  const journal = join(base, 'journal');
  writeFileSync(journal, lines(options.journal ?? [JOURNAL_START, ...(options.journalLines ?? [])]));
  const hostname = options.hostname ?? VM.hostname;
  // hostname(1): -I prints every address but those of the loopback interface and IPv6 link-local ones.
  const shown = (options.addresses ?? [VM.ip, VM.ip6]).filter((a) => !/^127\./.test(a) && a !== '::1' && !/^fe[89ab][0-9a-f]:/i.test(a));
  const version = options.packageVersion ?? VM.istioVersion;
  const shims: Record<string, string> = {
    systemctl: `
case " $* " in *" show "*) ;; *) echo "systemctl shim: only show is expected: $*" >&2; exit 64 ;; esac
${options.oldSystemd ? `case " $* " in *" --timestamp=unix "*) echo "systemctl: unrecognized option '--timestamp=unix'" >&2; exit 1 ;; esac` : ''}
cat <<'EOF'
${systemdProps.join('\n')}
EOF`,
    journalctl: `
case " $* " in *" -u istio "*) ;; *) echo "journalctl shim: only -u istio is expected: $*" >&2; exit 64 ;; esac
cat ${sq(journal)}`,
    hostname: `
case "$1" in
  -s) echo ${sq(hostname)} ;;
  -I) echo ${sq(shown.map((a) => `${a} `).join(''))} ;;
  *) echo ${sq(`${hostname}.ec2.internal`)} ;;
esac`,
    id: `
case "$1 $2" in
  "-u istio-proxy") echo ${options.proxyUid ?? VM.proxyUid} ;;
  "-g istio-proxy") echo ${options.proxyGid ?? options.proxyUid ?? VM.proxyUid} ;;
  *) echo "id: '$2': no such user" >&2; exit 1 ;;
esac`,
    'pilot-agent': `
case "$*" in "version -s") echo ${sq(options.pilotAgentVersion ?? VM.istioVersion)} ;; *) echo "pilot-agent shim: unexpected $*" >&2; exit 64 ;; esac`,
  };
  if (options.packageManager === 'rpm') {
    shims.rpm = `
case "$*" in *istio-sidecar*) printf '%s' ${sq(version)} ;; *) echo "package $* is not installed"; exit 1 ;; esac`;
  } else {
    shims['dpkg-query'] = `
case "$*" in *istio-sidecar*) printf '%s' ${sq(version)} ;; *) echo "dpkg-query: no packages found" >&2; exit 1 ;; esac`;
  }
  if (options.iptables) {
    for (const [tool, state] of Object.entries(options.iptables)) shims[tool] = iptablesStateShim(tool, state, join(base, 'iptables'));
  } else {
    for (const tool of IPTABLES_TOOLS) shims[tool] = iptablesShim(tool);
  }
  if (options.nftTables) shims.nft = nftShim(options.nftTables, join(base, 'nft'));
  if (options.clock !== undefined || options.clockStep !== undefined)
    shims.date = dateShim(options.clock, options.clockStep, join(base, 'clock'));
  if (options.fileOwner) shims.stat = statShim(options.fileOwner);
  if (options.timeout) shims.timeout = timeoutShim(options.timeout.tool, options.timeout.seconds, options.hang ?? []);
  if (options.awk === 'busybox') shims.awk = `exec ${sq(realTool('busybox'))} awk "$@"`;
  // exec: the process a timeout kills is the one that hangs, with no child left holding its output open.
  // An ignored signal stays ignored across exec.
  for (const name of options.hang ?? [])
    shims[name] = `${options.hangIgnoresTerm ? "trap '' TERM\n" : ''}exec ${sq(realTool('sleep'))} 120`;

  for (const [name, body] of Object.entries(shims)) {
    if (without.has(name)) continue;
    write(join(dir, name), `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${callsLog}'\n${body.trimStart()}\n`, 0o755);
  }
}

/** A word the shell reads back as exactly `text`. */
function sq(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function realTool(name: string): string {
  const path = findOnPath(name);
  if (!path) throw new Error(`${name} is not installed on the test machine`);
  return path;
}

/**
 * `date -u +%s` answers the VM's clock, and `date +%s` a clock that advances by `step` seconds at each
 * call (kept in the file `state`); anything else goes to the real date.
 */
function dateShim(clock: number | undefined, step: number | undefined, state: string): string {
  writeFileSync(state, `${Math.floor(Date.now() / 1000)}\n`);
  return `
case "$*" in
  ${clock === undefined ? '' : `"-u +%s") echo ${Math.floor(clock)} ;;`}
  ${step === undefined ? '' : `"+%s") read -r n < ${sq(state)}; n=$((n + ${step})); echo "$n" > ${sq(state)}; echo "$n" ;;`}
  *) exec ${sq(realTool('date'))} "$@" ;;
esac`;
}

/** coreutils' or busybox's timeout, with its duration and -k grace (the only options the script passes) set to `seconds`. */
function timeoutShim(tool: 'coreutils' | 'busybox', seconds: number, hung: readonly string[]): string {
  const real = tool === 'busybox' ? `${sq(realTool('busybox'))} timeout` : sq(realTool('timeout'));
  const names = hung.length > 0 ? hung.map(sq).join(' | ') : "''";
  return `
if [ "$1" = -k ]; then
  k=$2 t=$3
  shift 3
  case "$1" in ${names}) k=${seconds} t=${seconds} ;; esac
  exec ${real} -k "$k" "$t" "$@"
fi
exec ${real} "$@"`;
}

/** The real stat, with %u, %g and %U of every -c format answered as the given owner. */
function statShim(owner: { uid: number; gid: number; name: string }): string {
  return `
prev=
for a do
  shift
  if [ "$prev" = -c ]; then
    f=$a a=
    while [ -n "$f" ]; do
      case $f in
        %u*) a=\${a}${owner.uid} f=\${f#%u} ;;
        %g*) a=\${a}${owner.gid} f=\${f#%g} ;;
        %U*) a=\${a}${sq(owner.name)} f=\${f#%U} ;;
        %?*) a=\${a}\${f%"\${f#??}"} f=\${f#??} ;;
        *) a=\${a}\${f%"\${f#?}"} f=\${f#?} ;;
      esac
    done
    prev=-c-done
  else
    prev=$a
  fi
  set -- "$@" "$a"
done
exec ${sq(realTool('stat'))} "$@"`;
}

/** `nft list tables inet` and `nft list table inet NAME` of the given tables; anything else is refused, as a write would be. */
function nftShim(tables: Record<string, string>, dir: string): string {
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
function iptablesStateShim(tool: string, state: IptablesToolState, dir: string): string {
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
function iptablesShim(tool: string): string {
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

// What /usr/local/bin/istio-start.sh prints before handing over to pilot-agent, whose logs go to files.
const JOURNAL_START =
  "+ exec su -s /bin/bash -c 'exec /usr/local/bin/pilot-agent proxy 2>> /var/log/istio/istio.err.log >> /var/log/istio/istio.log' istio-proxy";

interface Answer {
  status: number;
  type: string;
  body: string;
}

const STATS = [
  'cluster_manager.cds.update_attempt: 5',
  'cluster_manager.cds.update_rejected: 0',
  'cluster_manager.cds.update_success: 5',
  'control_plane.connected_state: 1',
  'listener_manager.lds.update_attempt: 4',
  'listener_manager.lds.update_rejected: 0',
  'listener_manager.lds.update_success: 4',
  'server.live: 1',
  'server.state: 0',
];

/** What Envoy's admin (envoy.admin.v3 shapes) and pilot-agent's readiness endpoint answer. */
function envoyAnswer(url: URL, pki: Pki, options: FakeVmOptions): Answer {
  const json = (value: unknown): Answer => ({ status: 200, type: 'application/json', body: JSON.stringify(value, null, 2) });
  switch (url.pathname) {
    case '/healthz/ready':
      return { status: options.readiness === 503 ? 503 : 200, type: 'text/plain', body: '' };
    case '/server_info': {
      const node = options.envoyNode ?? {
        ip: VM.ip,
        hostname: VM.hostname,
        namespace: VM.namespace,
        cluster: `foo.${VM.namespace}`,
        istioVersion: VM.istioVersion,
        uptimeSeconds: 3600,
      };
      return json({
        version: '7d8b1c0b0ad3b4c3bd9f9c3d4e4b2c2c1a2b3c4d/1.32.3/Clean/RELEASE/BoringSSL',
        state: 'LIVE',
        hot_restart_version: 'disabled',
        command_line_options: {
          base_id: '0',
          concurrency: 2,
          config_path: 'etc/istio/proxy/envoy-rev.json',
          log_level: 'warning',
          drain_strategy: 'Immediate',
        },
        node: {
          // Istio's proxy id: <type>~<ip>~<pod or VM name>.<namespace>~<namespace>.svc.<domain>.
          id: `sidecar~${node.ip}~${node.hostname}.${node.namespace}~${node.namespace}.svc.cluster.local`,
          cluster: node.cluster,
          metadata: {
            ISTIO_VERSION: node.istioVersion,
            NAMESPACE: node.namespace,
            CLUSTER_ID: 'Kubernetes',
            SERVICE_ACCOUNT: VM.serviceAccount,
            ...options.envoyMetadata,
          },
        },
        // protobuf Duration in JSON: seconds with an `s`.
        uptime_current_epoch: `${node.uptimeSeconds}s`,
        uptime_all_epochs: `${node.uptimeSeconds}s`,
      });
    }
    case '/stats': {
      const filter = url.searchParams.get('filter');
      const re = filter === null ? undefined : new RegExp(filter);
      // Envoy's text stats come sorted by name, one `name: value` line each.
      const all = options.envoyStats
        ? Object.keys(options.envoyStats)
            .sort()
            .map((name) => `${name}: ${options.envoyStats![name]}`)
        : STATS;
      return { status: 200, type: 'text/plain', body: `${all.filter((l) => !re || re.test(l.slice(0, l.indexOf(':')))).join('\n')}\n` };
    }
    case '/clusters':
      if (url.searchParams.get('format') !== 'json') return { status: 400, type: 'text/plain', body: 'only ?format=json is faked\n' };
      return { status: 200, type: 'application/json', body: options.envoyClusterStatuses ?? healthyClusterStatuses(VM) };
    case '/config_dump':
      return configDump(url.searchParams.get('resource'), url.searchParams.get('mask'), pki, options);
    default:
      return { status: 404, type: 'text/plain', body: 'invalid path\n' };
  }
}

function configDump(resource: string | null, mask: string | null, pki: Pki, options: FakeVmOptions): Answer {
  const json = (value: unknown): Answer => ({ status: 200, type: 'application/json', body: JSON.stringify(value, null, 2) });
  if (resource === 'dynamic_active_secrets') {
    // Istio's secret config dump sample, serving this VM's certificates.
    const dump = JSON.parse(fixture('secrets-config-dump.json')) as {
      configs: Array<{ dynamic_active_secrets: Array<{ name: string; secret: Record<string, unknown> }> }>;
    };
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const held = options.envoySecrets;
    const configs = dump.configs[0]!.dynamic_active_secrets.map((s) => {
      const secret = structuredClone(s.secret) as {
        tls_certificate?: { certificate_chain: { inline_bytes: string } };
        validation_context?: { trusted_ca: { inline_bytes: string } };
      };
      if (secret.tls_certificate)
        secret.tls_certificate.certificate_chain.inline_bytes = b64(held ? held.chainPem : pki.leafPem + pki.rootPem);
      if (secret.validation_context) secret.validation_context.trusted_ca.inline_bytes = b64(held ? held.rootPem : pki.rootPem);
      const versions = held ? { version_info: held.versionInfo, last_updated: protobufTimestamp(held.lastUpdated) } : {};
      return { '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret', ...s, ...versions, secret };
    });
    return json({ configs });
  }
  if (
    options.envoyClusters &&
    mask === 'cluster.name,cluster.type' &&
    (resource === 'dynamic_active_clusters' || resource === 'dynamic_warming_clusters')
  ) {
    const list = resource === 'dynamic_active_clusters' ? options.envoyClusters.active : options.envoyClusters.warming;
    if (list.length === 0) return json({});
    return json({
      configs: list.map((c) => ({
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
        // proto3 JSON leaves a field at its default out: STATIC is DiscoveryType's zero value.
        cluster: {
          '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
          name: c.name,
          ...(c.type === 'STATIC' ? {} : { type: c.type }),
        },
      })),
    });
  }
  if (resource === 'dynamic_active_clusters' && mask === 'cluster.name,cluster.type') {
    const cluster = (name: string, type: string) => ({
      '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
      cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name, type },
    });
    const configs = [
      cluster(`outbound|15012||istiod.istio-system.svc.cluster.local`, 'EDS'),
      cluster(`outbound|443||istiod.istio-system.svc.cluster.local`, 'EDS'),
      cluster(`outbound|8080||foo.${VM.namespace}.svc.cluster.local`, 'EDS'),
      cluster('inbound|8080||', 'ORIGINAL_DST'),
    ];
    let text = JSON.stringify({ configs });
    for (let i = 0; options.clustersBytes && text.length < options.clustersBytes; i++) {
      configs.push(cluster(`outbound|80||svc-${i}.padding.svc.cluster.local`, 'EDS'));
      if (i % 500 === 0) text = JSON.stringify({ configs });
    }
    return json({ configs });
  }
  if (resource === 'dynamic_warming_secrets' || resource === 'dynamic_warming_clusters') return json({});
  return { status: 400, type: 'text/plain', body: 'unexpected config_dump query\n' };
}

/** A protobuf Timestamp in JSON: RFC 3339 in UTC, with 0, 3, 6 or 9 fractional digits (here 0 or 3). */
function protobufTimestamp(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** Digest of a directory tree: names, types, modes, owners, sizes, mtimes/ctimes and contents. */
export function hashTree(dir: string): string {
  const hash = createHash('sha256');
  const walk = (path: string, rel: string): void => {
    const st = lstatSync(path, { bigint: true });
    hash.update(`${rel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.size}\0${st.mtimeNs}\0${st.ctimeNs}\0`);
    if (st.isSymbolicLink()) hash.update(readlinkSync(path));
    else if (st.isFile()) hash.update(readFileSync(path));
    else if (st.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name), `${rel}/${name}`);
  };
  walk(dir, '.');
  return hash.digest('hex');
}
