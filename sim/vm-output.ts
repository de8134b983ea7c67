import { formatDiagnosticOutput } from '../lib/core/diagnostic-output.ts';
import { LOG_PATTERNS, type LogPattern } from '../lib/core/parsers/logs-summary.ts';
import type { SimFleet, SimVm } from './fleet.ts';
import { isConnected } from './fleet.ts';
import { SIM_GATEWAY_IP, SIM_REMOVED_REVISION, SIM_STALE_GATEWAY_IP } from './mesh-services.ts';
import { hashString, SeededRandom } from './random.ts';
import type { SimVmCertificates } from './vm-certificates.ts';

const PROXY_UID = 998;
/** SCRIPT_VERSION of lib/diagnostic-script/fleet-audit-diagnostics.sh, printed in its identity section. */
const SCRIPT_VERSION = '1.1.0';
/**
 * Bytes of /etc/certs/key.pem: the PKCS#8 PEM of the mesh's P-256 workload key (simulated certificates
 * are ECDSA P-256 unless a fleet asks for RSA) with the newline that ends the file.
 */
const KEY_PEM_BYTES = 241;

/**
 * Renders what the diagnostic script prints on this simulated VM, section by section in the script's
 * format (docs/diagnostic-output.md). Certificate sections appear only when `certificates` is given.
 */
export function renderVmOutput(fleet: SimFleet, vm: SimVm, certificates?: SimVmCertificates): string {
  const rnd = new SeededRandom(hashString(`${fleet.seed}:${vm.instanceId}`));
  const nowSeconds = Math.floor(fleet.now.getTime() / 1000);
  const stopped = vm.faults.includes('sidecar-stopped');
  const notReady = vm.faults.includes('sidecar-not-ready');
  const connected = isConnected(vm);
  const looping = vm.faults.includes('restart-loop');
  const started = nowSeconds - vm.uptimeSeconds;
  const vmClock = vm.faults.includes('clock-skew') ? nowSeconds - 300 : nowSeconds;
  const boundary = `@@fa-${rnd.hex(16)}`;
  // curl exits 7 when nothing listens on the port: the script's rc for every HTTP section.
  const envoy = (name: string, body: () => string) => (stopped ? { name, content: '', rc: 7 } : { name, content: body() });

  const logs = new Map<LogPattern, { count: number; last: string }>();
  if (notReady) {
    logs.set('not-ready', {
      count: 14,
      last: `${isoMicros(nowSeconds - 12)}\twarn\tEnvoy proxy is NOT ready: config received from XDS server, but was rejected: cds updates: 3 successful, 1 rejected; lds updates: 2 successful, 0 rejected`,
    });
  }
  if (vm.faults.includes('istiod-disconnected') || vm.faults.includes('workload-group-missing')) {
    logs.set('istiod-dial', {
      count: 37,
      last: `${isoMicros(nowSeconds - 30)}\twarn\txdsproxy\tupstream [3] terminated with unexpected error rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.100.0.12:15012: connect: connection refused"`,
    });
  }
  if (vm.faults.includes('workload-group-missing')) {
    logs.set('no-workload-group', {
      count: 12,
      last: `${isoMicros(nowSeconds - 40)}\twarn\txdsproxy\tupstream terminated with unexpected error rpc error: code = Unknown desc = auto-registration WorkloadEntry of ${vm.hostname} failed: cannot find WorkloadGroup ${vm.namespace}/${vm.group}`,
    });
  }

  const sections = [
    {
      name: 'identity',
      content: lines([
        `hostname=${vm.hostname}`,
        `ips=${hostnameI(vm, rnd)}`,
        `clock=${vmClock}`,
        `os=${vm.hybrid ? 'Ubuntu 22.04.5 LTS' : 'Amazon Linux 2023.6.20241121'}`,
        `proxy_uid=${PROXY_UID}`,
        `proxy_gid=${PROXY_UID}`,
        `script_version=${SCRIPT_VERSION}`,
      ]),
    },
    {
      name: 'systemd',
      content: lines([
        'LoadState=loaded',
        `ActiveState=${stopped ? 'inactive' : 'active'}`,
        `SubState=${stopped ? 'dead' : 'running'}`,
        `UnitFileState=${vm.faults.includes('unit-disabled') ? 'disabled' : 'enabled'}`,
        `NRestarts=${looping ? 7 : 0}`,
        `ActiveEnterTimestamp=${stopped ? '' : `@${looping ? nowSeconds - 120 : started}`}`,
        `MainPID=${stopped ? 0 : rnd.int(900, 40000)}`,
      ]),
    },
    {
      name: 'readiness',
      content: lines([
        'url=http://127.0.0.1:15021/healthz/ready',
        `http_code=${stopped ? '000' : notReady ? '503' : '200'}`,
        `curl_exit=${stopped ? 7 : 0}`,
      ]),
      rc: stopped ? 7 : 0,
    },
    envoy('envoy-server-info', () =>
      JSON.stringify(
        {
          version: '9f5e7c2d/1.32.3/Clean/RELEASE/BoringSSL',
          state: 'LIVE',
          hot_restart_version: 'disabled',
          node: {
            id: `sidecar~${vm.ip}~${vm.hostname}.${vm.namespace}~${vm.namespace}.svc.cluster.local`,
            cluster: `${vm.group ?? vm.hostname}.${vm.namespace}`,
            metadata: { ISTIO_VERSION: vm.istioVersion, NAMESPACE: vm.namespace, CLUSTER_ID: 'Kubernetes' },
          },
          uptime_current_epoch: `${vm.uptimeSeconds}s`,
          uptime_all_epochs: `${vm.uptimeSeconds}s`,
        },
        null,
        2,
      ),
    ),
    envoy('envoy-stats', () =>
      lines([
        `cluster_manager.cds.update_rejected: ${notReady ? 1 : 0}`,
        `cluster_manager.cds.update_success: ${rnd.int(3, 90)}`,
        `control_plane.connected_state: ${connected ? 1 : 0}`,
        'listener_manager.lds.update_rejected: 0',
        `listener_manager.lds.update_success: ${rnd.int(2, 80)}`,
        'server.state: 0',
      ]),
    ),
    ...(certificates
      ? [envoy('envoy-secrets-active', () => secretsDump(certificates, fleet.now)), envoy('envoy-secrets-warming', () => '{}')]
      : []),
    envoy('envoy-clusters-active', () => clustersDump(ACTIVE_CLUSTERS(vm))),
    envoy('envoy-clusters-warming', () =>
      vm.faults.includes('cluster-warming') ? clustersDump(['outbound|9090||ledger-db.legacy.svc.cluster.local']) : '{}',
    ),
    { name: 'logs', content: renderLogs(logs) },
    { name: 'cluster-env', content: renderClusterEnv(vm) },
    renderSidecarEnv(vm),
    { name: 'mesh-config', content: renderMeshConfig(vm) },
    { name: 'hosts', content: renderHosts(vm) },
    { name: 'iptables-save', content: renderIptables(vm, fleet.now, 'nft') },
    // Legacy iptables is asked only about tables already loaded: none, unless it holds rules.
    vm.faults.includes('capture-split')
      ? { name: 'iptables-legacy-save', content: renderIptables(vm, fleet.now, 'legacy') }
      : { name: 'iptables-legacy-save', content: '' },
    { name: 'iptables-nft-save', content: renderIptables(vm, fleet.now, 'nft') },
    { name: 'ip6tables-save', content: renderIp6tables(fleet.now) },
    // Only a VM in native nftables mode has nft installed: the section appears where nft is.
    ...(vm.configuration === 'native-nftables' ? [{ name: 'nftables', content: renderIstioNftables(vm) }] : []),
    ...(certificates
      ? [
          vm.faults.includes('openssl-missing')
            ? { name: 'certs', content: renderCertsListing(vm, certificates, started, 'unknown'), missing: ['openssl'] }
            : { name: 'certs', content: renderCertsListing(vm, certificates, started, 'yes') },
          { name: 'cert-chain-pem', content: pemCertificateLines(certificates.chainPem) },
          { name: 'root-cert-pem', content: pemCertificateLines(certificates.rootPem) },
        ]
      : []),
    { name: 'token', content: renderToken(vm, nowSeconds) },
    {
      name: 'versions',
      content: lines([
        `package_manager=${vm.hybrid ? 'dpkg' : 'rpm'}`,
        `package_version=${vm.faults.includes('upgrade-not-restarted') ? '1.24.7' : vm.istioVersion}`,
        `pilot_agent_version=${vm.faults.includes('upgrade-not-restarted') ? '1.24.7' : vm.istioVersion}`,
      ]),
    },
  ];
  return formatDiagnosticOutput(boundary, sections);
}

/**
 * Lines as the script prints them: each ended by a newline, which the section keeps (the script writes
 * whole lines, and a file or a tool's output ends with its newline).
 */
function lines(items: readonly string[]): string {
  return items.map((line) => `${line}\n`).join('');
}

/**
 * What `hostname -I` prints, split into words by the script: every address but loopback and IPv6
 * link-local ones, so not the fe80:: address the VM's interface also has.
 */
function hostnameI(vm: SimVm, rnd: SeededRandom): string {
  // Drawn all the same: the values drawn after it (MainPID, Envoy's counters) stay those of the seed.
  rnd.hex(4);
  rnd.hex(4);
  return vm.ip;
}

function renderLogs(hits: Map<LogPattern, { count: number; last: string }>): string {
  return lines([
    'source journal ok 1000',
    'source istio.log ok 2000',
    'source istio.err.log ok 12',
    ...LOG_PATTERNS.map((p) => `count ${p} ${hits.get(p)?.count ?? 0}`),
    ...LOG_PATTERNS.filter((p) => hits.has(p)).map((p) => `last ${p} ${hits.get(p)!.last}`),
  ]);
}

/** cluster.env as `istioctl x workload entry configure` writes it: sorted, single-quoted. */
function renderClusterEnv(vm: SimVm): string {
  const env: Record<string, string> = {
    CANONICAL_REVISION: 'latest',
    CANONICAL_SERVICE: vm.group ?? vm.hostname,
    CA_ADDR: discoveryAddress(vm),
    ...(vm.configuration === 'sidecar-env' ? {} : { ISTIO_INBOUND_PORTS: '*', ISTIO_META_DNS_CAPTURE: 'true' }),
    ISTIO_LOCAL_EXCLUDE_PORTS: '22,15090,15021,15020',
    ISTIO_META_CLUSTER_ID: 'Kubernetes',
    ISTIO_META_MESH_ID: '',
    ISTIO_META_NETWORK: '',
    ISTIO_META_WORKLOAD_NAME: vm.group ?? vm.hostname,
    ISTIO_NAMESPACE: vm.namespace,
    ISTIO_SERVICE: `${vm.group ?? vm.hostname}.${vm.namespace}`,
    ISTIO_SERVICE_CIDR: '*',
    ISTIO_SVC_IP: vm.ip,
    ...(vm.configuration === 'output-certs' ? { OUTPUT_CERTS: OUTPUT_CERTS_DIR } : {}),
    ...(vm.faults.includes('debug-logging')
      ? { ISTIO_AGENT_FLAGS: '--proxyLogLevel=debug --log_output_level=default:info,xdsproxy:debug' }
      : {}),
    POD_NAMESPACE: vm.namespace,
    SERVICE_ACCOUNT: vm.serviceAccount,
    TRUST_DOMAIN: 'cluster.local',
  };
  if (vm.group) env.ISTIO_META_AUTO_REGISTER_GROUP = vm.group;
  if (vm.faults.includes('workload-entry-unselected'))
    env.ISTIO_METAJSON_LABELS = JSON.stringify({
      app: `${vm.group ?? vm.hostname}-canary`,
      'service.istio.io/canonical-name': vm.group ?? vm.hostname,
    });
  return lines(
    Object.keys(env)
      .sort()
      .map((key) => `${key}='${env[key]}'`),
  );
}

/**
 * /var/lib/istio/envoy/sidecar.env, where an operator keeps the settings istioctl does not write: absent
 * (rc 1, nothing printed) on a VM of the default layout.
 */
function renderSidecarEnv(vm: SimVm): { name: string; content: string; rc?: number } {
  const settings: Partial<Record<NonNullable<SimVm['configuration']>, string[]>> = {
    'sidecar-env': [
      '# Inbound and DNS capture, kept out of the generated cluster.env',
      'ISTIO_INBOUND_PORTS=*',
      'ISTIO_META_DNS_CAPTURE=true',
    ],
    'custom-iptables': ['# The capture rules are installed by the host firewall, not by istio-iptables', 'ISTIO_CUSTOM_IP_TABLES=true'],
    tproxy: ['ISTIO_INBOUND_INTERCEPTION_MODE=TPROXY'],
    'native-nftables': ['NATIVE_NFTABLES=true'],
  };
  const content = vm.configuration ? settings[vm.configuration] : undefined;
  return content ? { name: 'sidecar-env', content: lines(content) } : { name: 'sidecar-env', content: '', rc: 1 };
}

function renderMeshConfig(vm: SimVm): string {
  return lines([
    'defaultConfig:',
    `  discoveryAddress: ${discoveryAddress(vm)}`,
    '  proxyMetadata:',
    '    ISTIO_META_DNS_CAPTURE: "true"',
    `    ISTIO_META_AUTO_REGISTER_GROUP: ${vm.group ?? '""'}`,
    '  readinessProbe:',
    '    httpGet:',
    '      port: 8080',
  ]);
}

/** The istiod the VM is pinned to, as istioctl writes CA_ADDR and discoveryAddress: istiod[-<rev>].istio-system.svc:15012. */
function discoveryAddress(vm: SimVm): string {
  return `${istiodHost(vm)}:15012`;
}

function istiodHost(vm: SimVm): string {
  return vm.faults.includes('istiod-revision-removed') ? `istiod-${SIM_REMOVED_REVISION}.istio-system.svc` : 'istiod.istio-system.svc';
}

/** The /etc/hosts line `istioctl x workload entry configure` appends: the east-west gateway's address for istiod's name. */
function renderHosts(vm: SimVm): string {
  return lines([`${vm.faults.includes('hosts-pin-stale') ? SIM_STALE_GATEWAY_IP : SIM_GATEWAY_IP} ${istiodHost(vm)}`]);
}

/** Live `iptables-save` after istio-iptables ran on a VM: chain headers, `-m tcp`, the VM's own istio-proxy uid. */
function renderIptables(vm: SimVm, now: Date, backend: 'nft' | 'legacy'): string {
  const resolver = `${vm.ip.split('.').slice(0, 2).join('.')}.0.2`;
  const uid = vm.faults.includes('capture-wrong-uid') ? 1337 : PROXY_UID;
  const stamp = iptablesStamp(now);
  const header = `# Generated by iptables-${backend}-save v1.8.8${backend === 'nft' ? ' (nf_tables)' : ' (legacy)'} on ${stamp}`;
  // In native nftables mode istio-iptables is not run: iptables holds only its default chains.
  if (vm.faults.includes('capture-missing') || vm.configuration === 'native-nftables') {
    return lines([
      header,
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':INPUT ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':POSTROUTING ACCEPT [0:0]',
      'COMMIT',
      `# Completed on ${stamp}`,
    ]);
  }
  if (vm.configuration === 'custom-iptables') return renderOperatorIptables(header, stamp, uid);
  const tproxy = vm.configuration === 'tproxy';
  // In TPROXY mode only the HBONE port's return stays in nat: inbound capture is the mangle table's.
  const natInbound = tproxy
    ? ['-A ISTIO_INBOUND -p tcp -m tcp --dport 15008 -j RETURN']
    : [
        '-A ISTIO_INBOUND -p tcp -m tcp --dport 15008 -j RETURN',
        ...[22, 15090, 15021, 15020].map((port) => `-A ISTIO_INBOUND -p tcp -m tcp --dport ${port} -j RETURN`),
        '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT',
      ];
  return lines([
    header,
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':ISTIO_INBOUND - [0:0]',
    ':ISTIO_IN_REDIRECT - [0:0]',
    ':ISTIO_OUTPUT - [0:0]',
    ':ISTIO_REDIRECT - [0:0]',
    ...(tproxy ? [] : ['-A PREROUTING -p tcp -j ISTIO_INBOUND']),
    '-A OUTPUT -p tcp -j ISTIO_OUTPUT',
    '-A OUTPUT -p udp -j ISTIO_OUTPUT',
    ...natInbound,
    '-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
    '-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN',
    `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 53 -m owner --uid-owner ${uid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -p tcp -m tcp ! --dport 53 -m owner ! --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --gid-owner ${uid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -p tcp -m tcp ! --dport 53 -m owner ! --gid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --gid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -d ${resolver}/32 -p tcp -m tcp --dport 53 -j REDIRECT --to-ports 15053`,
    '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN',
    '-A ISTIO_OUTPUT -j ISTIO_REDIRECT',
    `-A ISTIO_OUTPUT -p udp -m udp --dport 53 -m owner --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -p udp -m udp --dport 53 -m owner --gid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -d ${resolver}/32 -p udp -m udp --dport 53 -j REDIRECT --to-ports 15053`,
    '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
    'COMMIT',
    `# Completed on ${stamp}`,
    ...(tproxy ? tproxyMangle(header, stamp, uid) : []),
  ]);
}

/**
 * The mangle table istio-iptables writes in TPROXY mode (tools/istio-iptables/pkg/capture/testdata/tproxy.golden),
 * with the VM's excluded ports returning first, as iptables-save prints it after the nat table.
 */
function tproxyMangle(header: string, stamp: string, uid: number): string[] {
  return [
    header,
    '*mangle',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':ISTIO_DIVERT - [0:0]',
    ':ISTIO_INBOUND - [0:0]',
    ':ISTIO_TPROXY - [0:0]',
    '-A PREROUTING -p tcp -j ISTIO_INBOUND',
    '-A PREROUTING -p tcp -m mark --mark 0x539 -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff',
    '-A OUTPUT -o lo -p tcp -m mark --mark 0x539 -j RETURN',
    `-A OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m owner --uid-owner ${uid} -j MARK --set-xmark 0x53a/0xffffffff`,
    `-A OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m owner --gid-owner ${uid} -j MARK --set-xmark 0x53a/0xffffffff`,
    '-A OUTPUT -p tcp -m connmark --mark 0x539 -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff',
    '-A ISTIO_DIVERT -j MARK --set-xmark 0x539/0xffffffff',
    '-A ISTIO_DIVERT -j ACCEPT',
    '-A ISTIO_INBOUND -p tcp -m mark --mark 0x539 -j RETURN',
    '-A ISTIO_INBOUND -s 127.0.0.6/32 -i lo -p tcp -j RETURN',
    '-A ISTIO_INBOUND -i lo -p tcp -m mark ! --mark 0x53a -j RETURN',
    ...[22, 15090, 15021, 15020].map((port) => `-A ISTIO_INBOUND -p tcp -m tcp --dport ${port} -j RETURN`),
    '-A ISTIO_INBOUND -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -j ISTIO_DIVERT',
    '-A ISTIO_INBOUND -p tcp -j ISTIO_TPROXY',
    '-A ISTIO_TPROXY ! -d 127.0.0.1/32 -p tcp -j TPROXY --on-port 15006 --on-ip 0.0.0.0 --tproxy-mark 0x539/0xffffffff',
    'COMMIT',
    `# Completed on ${stamp}`,
  ];
}

/**
 * `nft list table inet istio-proxy-nat` and `… istio-proxy-raw` after istio-nftables (Istio 1.27+) ran on
 * the VM, in the order the script lists them: the rules of tools/istio-nftables/pkg/capture with the
 * VM's excluded ports, istio-proxy uid/gid and VPC resolver, as nft prints them back.
 */
function renderIstioNftables(vm: SimVm): string {
  const resolver = `${vm.ip.split('.').slice(0, 2).join('.')}.0.2`;
  const uid = PROXY_UID;
  const chain = (name: string, rules: string[], base?: string) => [
    `\tchain ${name} {`,
    ...(base ? [`\t\t${base}`] : []),
    ...rules.map((r) => `\t\t${r}`),
    '\t}',
  ];
  const table = (name: string, chains: string[][]) => [
    `table inet ${name} {`,
    ...chains.flatMap((c, i) => (i === 0 ? c : ['', ...c])),
    '}',
  ];
  return lines([
    ...table('istio-proxy-nat', [
      chain('prerouting', ['meta l4proto tcp jump istio-inbound'], 'type nat hook prerouting priority dstnat; policy accept;'),
      chain('output', ['jump istio-output'], 'type nat hook output priority -100; policy accept;'),
      chain('istio-inbound', [
        ...[15008, 22, 15090, 15021, 15020].map((port) => `meta l4proto tcp tcp dport ${port} return`),
        'meta l4proto tcp jump istio-in-redirect',
      ]),
      chain('istio-redirect', ['meta l4proto tcp redirect to :15001']),
      chain('istio-in-redirect', ['meta l4proto tcp redirect to :15006']),
      chain('istio-output', [
        'oifname "lo" ip saddr 127.0.0.6 return',
        `oifname "lo" meta l4proto tcp ip daddr != 127.0.0.1 tcp dport != { 53, 15008 } meta skuid ${uid} jump istio-in-redirect`,
        `oifname "lo" meta l4proto tcp tcp dport != 53 meta skuid != ${uid} return`,
        `meta skuid ${uid} return`,
        `oifname "lo" meta l4proto tcp ip daddr != 127.0.0.1 tcp dport != 15008 meta skgid ${uid} jump istio-in-redirect`,
        `oifname "lo" meta l4proto tcp tcp dport != 53 meta skgid != ${uid} return`,
        `meta skgid ${uid} return`,
        'jump istio-output-dns',
        'ip daddr 127.0.0.1 return',
        'jump istio-redirect',
      ]),
      chain('istio-output-dns', [
        `ip daddr ${resolver} tcp dport 53 redirect to :15053`,
        `ip daddr ${resolver} udp dport 53 redirect to :15053`,
      ]),
    ]),
    ...table('istio-proxy-raw', [
      chain('prerouting', ['jump istio-inbound'], 'type filter hook prerouting priority raw; policy accept;'),
      chain('output', ['jump istio-output-dns'], 'type filter hook output priority raw; policy accept;'),
      chain('istio-inbound', [`ip saddr ${resolver} udp sport 53 ct zone set 1`]),
      chain('istio-output-dns', [
        `udp dport 53 meta skuid ${uid} ct zone set 1`,
        `udp sport 15053 meta skuid ${uid} ct zone set 2`,
        `udp dport 53 meta skgid ${uid} ct zone set 1`,
        `udp sport 15053 meta skgid ${uid} ct zone set 2`,
        `ip daddr ${resolver} udp dport 53 ct zone set 2`,
      ]),
    ]),
  ]);
}

/**
 * A host firewall's own capture (ISTIO_CUSTOM_IP_TABLES=true): chains of its own naming, outbound only,
 * nothing Istio's controls would recognise.
 */
function renderOperatorIptables(header: string, stamp: string, uid: number): string {
  return lines([
    header,
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':MESH_OUTBOUND - [0:0]',
    '-A OUTPUT -p tcp -j MESH_OUTBOUND',
    `-A MESH_OUTBOUND -m owner --uid-owner ${uid} -j RETURN`,
    '-A MESH_OUTBOUND -d 127.0.0.0/8 -j RETURN',
    '-A MESH_OUTBOUND -d 10.0.0.0/8 -p tcp -j REDIRECT --to-ports 15001',
    'COMMIT',
    `# Completed on ${stamp}`,
  ]);
}

/** The IPv6 nat table: istio-iptables leaves it alone on an IPv4-only VM. */
function renderIp6tables(now: Date): string {
  const stamp = iptablesStamp(now);
  return lines([
    `# Generated by ip6tables-nft-save v1.8.8 (nf_tables) on ${stamp}`,
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    'COMMIT',
    `# Completed on ${stamp}`,
  ]);
}

/** iptables-save's date, `Thu Nov 26 06:00:00 2026`. */
function iptablesStamp(now: Date): string {
  return now.toUTCString().replace(/^(\w{3}), (\d{2}) (\w{3}) (\d{4}) (\S+) GMT$/, '$1 $3 $2 $5 $4');
}

/** Where the `output-certs` VM's agent writes its certificates (OUTPUT_CERTS in its cluster.env). */
const OUTPUT_CERTS_DIR = '/var/lib/istio/certs';

/** `stat` of the certificates' directory (/etc/certs, or OUTPUT_CERTS), whose files hold the VM's PEMs (each ended by a newline) and its workload key. */
function renderCertsListing(vm: SimVm, certificates: SimVmCertificates, writtenAt: number, keyMatch: 'yes' | 'unknown'): string {
  const line = (mode: string, size: number, name: string) =>
    `file mode=${mode} uid=${PROXY_UID} gid=${PROXY_UID} owner=istio-proxy size=${size} mtime=${writtenAt} name=${name}`;
  const keyMode = vm.faults.includes('key-world-readable') ? '0644' : '0600';
  return lines([
    vm.configuration === 'output-certs' ? `location=${OUTPUT_CERTS_DIR} source=OUTPUT_CERTS` : 'location=/etc/certs source=default',
    line('0644', pemFileBytes(certificates.chainPem), 'cert-chain.pem'),
    line(keyMode, KEY_PEM_BYTES, 'key.pem'),
    line('0644', pemFileBytes(certificates.rootPem), 'root-cert.pem'),
    `key_match=${keyMatch}`,
  ]);
}

function pemFileBytes(pem: string): number {
  return Buffer.byteLength(pem.endsWith('\n') ? pem : `${pem}\n`);
}

/**
 * What the script's pem_certs keeps of the simulated PEM files, which hold well-formed certificate
 * blocks and nothing else: the lines of their CERTIFICATE blocks. (The script also checks each block's
 * DER and counts what it drops, docs/diagnostic-output.md; a simulated file has nothing to drop.)
 */
function pemCertificateLines(pem: string): string {
  const kept: string[] = [];
  let inside = false;
  for (const line of pem.split('\n')) {
    if (/private key/i.test(line)) inside = false;
    else if (/^-----BEGIN CERTIFICATE-----\s?$/.test(line)) inside = true;
    else if (/-----begin/i.test(line)) inside = false;
    if (inside) kept.push(line);
    if (/-----end/i.test(line)) inside = false;
  }
  return lines(kept);
}

function renderToken(vm: SimVm, nowSeconds: number): string {
  const claims = {
    aud: ['istio-ca'],
    exp: nowSeconds + 30 * 86400,
    iat: nowSeconds - 30 * 86400,
    iss: 'https://kubernetes.default.svc.cluster.local',
    sub: `system:serviceaccount:${vm.namespace}:${vm.serviceAccount}`,
  };
  return lines([
    'present=yes',
    `mode=0640 uid=${PROXY_UID} gid=${PROXY_UID} owner=istio-proxy mtime=${claims.iat}`,
    `payload=${Buffer.from(JSON.stringify(claims)).toString('base64url')}`,
  ]);
}

/** Envoy's `/config_dump?resource=dynamic_active_secrets` answer: `default` and `ROOTCA`, keys redacted. */
function secretsDump(certs: SimVmCertificates, now: Date): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  // A protobuf Timestamp in JSON, as Envoy prints it: no fractional digits for a whole second.
  const updated = new Date(now.getTime() - 3600_000).toISOString().replace(/\.000Z$/, 'Z');
  return JSON.stringify(
    {
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
          name: 'default',
          version_info: updated,
          last_updated: updated,
          secret: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
            name: 'default',
            tls_certificate: {
              certificate_chain: { inline_bytes: b64(certs.chainPem) },
              private_key: { inline_bytes: 'W3JlZGFjdGVkXQ==' },
            },
          },
        },
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
          name: 'ROOTCA',
          version_info: updated,
          last_updated: updated,
          secret: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
            name: 'ROOTCA',
            validation_context: { trusted_ca: { inline_bytes: b64(certs.rootPem) } },
          },
        },
      ],
    },
    null,
    2,
  );
}

/** The clusters a VM sidecar holds: istiod's, its own service's, one it calls, and its inbound port. */
const ACTIVE_CLUSTERS = (vm: SimVm): string[] => [
  'outbound|15012||istiod.istio-system.svc.cluster.local',
  'outbound|443||istiod.istio-system.svc.cluster.local',
  `outbound|8080||${vm.group ?? vm.hostname}.${vm.namespace}.svc.cluster.local`,
  'outbound|80||httpbin.default.svc.cluster.local',
  'inbound|8080||',
];

/** Envoy's `/config_dump?resource=dynamic_*_clusters&mask=cluster.name,cluster.type` answer. */
function clustersDump(names: string[]): string {
  return JSON.stringify(
    {
      configs: names.map((name) => ({
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
        // proto3 JSON leaves out a field at its default: STATIC, DiscoveryType's zero value, is never printed.
        cluster: {
          '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
          name,
          ...(name.startsWith('inbound') ? {} : { type: 'EDS' }),
        },
      })),
    },
    null,
    2,
  );
}

function isoMicros(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, '.000000Z');
}
