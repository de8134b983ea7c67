import { formatDiagnosticOutput } from '../core/diagnostic-output.ts';
import type { SimFleet, SimVm } from './fleet.ts';
import { SeededRandom } from './random.ts';

/** Renders what the diagnostic script prints on this simulated VM, in the script's own format. */
export function renderVmOutput(fleet: SimFleet, vm: SimVm): string {
  const rnd = new SeededRandom(hashString(`${fleet.seed}:${vm.instanceId}`));
  const nowSeconds = Math.floor(fleet.now.getTime() / 1000);
  const stopped = vm.faults.includes('sidecar-stopped');
  const notReady = vm.faults.includes('sidecar-not-ready');
  const started = nowSeconds - vm.uptimeSeconds;
  const namespaceDomain = `${vm.namespace}.svc.cluster.local`;
  const logLines: string[] = [];

  if (notReady) {
    logLines.push(
      `${isoSeconds(nowSeconds - 12)}\twarn\tEnvoy proxy is NOT ready: config received from XDS server, but was rejected: cds updates: 3 successful, 1 rejected; lds updates: 2 successful, 0 rejected`,
    );
  }
  if (vm.faults.includes('istiod-disconnected')) {
    logLines.push(`${isoSeconds(nowSeconds - 30)}\twarn\txdsproxy\tupstream [3] terminated with unexpected error rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.100.0.12:15012: connect: connection refused"`);
  }

  const sections = [
    {
      name: 'identity',
      content: [
        `hostname=${vm.hostname}`,
        `ips=${vm.ip} fe80::${rnd.hex(4)}:${rnd.hex(4)}`,
        `clock=${nowSeconds}`,
        `os=${vm.hybrid ? 'Ubuntu 22.04.5 LTS' : 'Amazon Linux 2023.6.20241121'}`,
        'proxy_uid=998',
        'proxy_gid=998',
      ].join('\n'),
    },
    {
      name: 'systemd',
      content: [
        'LoadState=loaded',
        `ActiveState=${stopped ? 'inactive' : 'active'}`,
        `SubState=${stopped ? 'dead' : 'running'}`,
        'UnitFileState=enabled',
        'NRestarts=0',
        `ActiveEnterTimestamp=${stopped ? '' : `@${started}`}`,
        `MainPID=${stopped ? 0 : rnd.int(900, 40000)}`,
      ].join('\n'),
    },
    {
      name: 'readiness',
      content: [
        'url=http://127.0.0.1:15021/healthz/ready',
        `http_code=${stopped ? '000' : notReady ? '503' : '200'}`,
        `curl_exit=${stopped ? 7 : 0}`,
      ].join('\n'),
    },
    stopped
      ? { name: 'envoy-server-info', content: '', rc: 7 }
      : {
          name: 'envoy-server-info',
          content: JSON.stringify(
            {
              version: `9f5e7c2d/1.32.3/Clean/RELEASE/BoringSSL`,
              state: 'LIVE',
              hot_restart_version: 'disabled',
              node: {
                id: `sidecar~${vm.ip}~${vm.hostname}.${vm.namespace}~${namespaceDomain}`,
                cluster: `${vm.group ?? vm.hostname}.${vm.namespace}`,
                metadata: { ISTIO_VERSION: vm.istioVersion, NAMESPACE: vm.namespace, CLUSTER_ID: 'Kubernetes' },
              },
              uptime_current_epoch: `${vm.uptimeSeconds}s`,
              uptime_all_epochs: `${vm.uptimeSeconds}s`,
            },
            null,
            2,
          ),
        },
    { name: 'cluster-env', content: renderClusterEnv(vm) },
    { name: 'logs', content: logLines.join('\n') },
  ];
  return formatDiagnosticOutput(`@@fa-${rnd.hex(16)}`, sections);
}

/** cluster.env as `istioctl x workload entry configure` writes it: sorted, single-quoted. */
function renderClusterEnv(vm: SimVm): string {
  const env: Record<string, string> = {
    CANONICAL_REVISION: 'latest',
    CANONICAL_SERVICE: vm.group ?? vm.hostname,
    ISTIO_INBOUND_PORTS: '*',
    ISTIO_LOCAL_EXCLUDE_PORTS: '22,15090,15021,15020',
    ISTIO_META_CLUSTER_ID: 'Kubernetes',
    ISTIO_META_DNS_CAPTURE: 'true',
    ISTIO_META_MESH_ID: '',
    ISTIO_META_NETWORK: '',
    ISTIO_META_WORKLOAD_NAME: vm.group ?? vm.hostname,
    ISTIO_NAMESPACE: vm.namespace,
    ISTIO_SERVICE: `${vm.group ?? vm.hostname}.${vm.namespace}`,
    ISTIO_SERVICE_CIDR: '*',
    ISTIO_SVC_IP: vm.ip,
    POD_NAMESPACE: vm.namespace,
    SERVICE_ACCOUNT: vm.serviceAccount,
    TRUST_DOMAIN: 'cluster.local',
  };
  if (vm.group) env.ISTIO_META_AUTO_REGISTER_GROUP = vm.group;
  return Object.keys(env)
    .sort()
    .map((key) => `${key}='${env[key]}'`)
    .join('\n');
}

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, '.000000Z');
}

/** FNV-1a: a stable 32-bit seed from a string. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
