import { vmProxyLabels, vmServiceName, type SimVm } from '../fleet.ts';
import { SIM_GATEWAY_IP, SIM_REMOVED_REVISION, SIM_STALE_GATEWAY_IP } from '../mesh-services.ts';
import { EXCLUDED_INBOUND_PORTS, lines, OUTPUT_CERTS_DIR } from './layout.ts';

/** cluster.env as `istioctl x workload entry configure` writes it: sorted, single-quoted. */
export function renderClusterEnv(vm: SimVm): string {
  const env: Record<string, string> = {
    CANONICAL_REVISION: 'latest',
    CANONICAL_SERVICE: vmServiceName(vm),
    CA_ADDR: discoveryAddress(vm),
    ...(vm.configuration === 'sidecar-env' ? {} : { ISTIO_INBOUND_PORTS: '*', ISTIO_META_DNS_CAPTURE: 'true' }),
    ISTIO_LOCAL_EXCLUDE_PORTS: EXCLUDED_INBOUND_PORTS.join(','),
    ISTIO_META_CLUSTER_ID: 'Kubernetes',
    ISTIO_META_MESH_ID: '',
    ISTIO_META_NETWORK: '',
    ISTIO_META_WORKLOAD_NAME: vmServiceName(vm),
    ISTIO_NAMESPACE: vm.namespace,
    ISTIO_SERVICE: `${vmServiceName(vm)}.${vm.namespace}`,
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
  const proxyLabels = vmProxyLabels(vm);
  if (proxyLabels) env.ISTIO_METAJSON_LABELS = JSON.stringify(proxyLabels);
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
export function renderSidecarEnv(vm: SimVm): { name: string; content: string; rc?: number } {
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

export function renderMeshConfig(vm: SimVm): string {
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
export function renderHosts(vm: SimVm): string {
  return lines([`${vm.faults.includes('hosts-pin-stale') ? SIM_STALE_GATEWAY_IP : SIM_GATEWAY_IP} ${istiodHost(vm)}`]);
}
