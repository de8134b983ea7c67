/** The options a test describes its VM with, and what the fake VM and its runs look like to a test. */
import type { Pki } from './test-pki.ts';
import type { IptablesTool } from './vm-defaults.ts';

export type ShellName = 'dash' | 'bash' | 'busybox';

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
  /** The body of Envoy's `/clusters?format=json`, in place of healthyClusterStatuses' (../fake-envoy-clusters.ts). */
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
