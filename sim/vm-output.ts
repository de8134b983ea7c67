import { formatDiagnosticOutput } from '../lib/core/diagnostic-output.ts';
import { LOG_PATTERNS, type LogPattern } from '../lib/core/parsers/logs-summary.ts';
import type { SimFleet, SimVm } from './fleet.ts';
import { isConnected, vmServiceName } from './fleet.ts';
import { hashString, SeededRandom } from './random.ts';
import type { SimVmCertificates } from './vm-certificates.ts';
import { renderIp6tables, renderIptables, renderIstioNftables } from './vm-output/capture.ts';
import { pemCertificateLines, renderCertsListing, renderToken, secretsDump } from './vm-output/certificates.ts';
import { ACTIVE_CLUSTERS, clusterStatuses, clustersDump } from './vm-output/envoy-clusters.ts';
import { renderClusterEnv, renderHosts, renderMeshConfig, renderSidecarEnv } from './vm-output/environment.ts';
import { lines, PROXY_UID } from './vm-output/layout.ts';

/** SCRIPT_VERSION of lib/diagnostic-script/fleet-audit-diagnostics.sh, printed in its identity section. */
const SCRIPT_VERSION = '1.2.0';

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
            cluster: `${vmServiceName(vm)}.${vm.namespace}`,
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
    envoy('envoy-clusters-health', () => clusterStatuses(fleet.istiods, vm)),
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

function isoMicros(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, '.000000Z');
}
