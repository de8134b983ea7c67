import type { SimVm } from '../fleet.ts';
import { lines, OUTPUT_CERTS_DIR } from './layout.ts';

/** cluster.env as `istioctl x workload entry configure` writes it: sorted, single-quoted. */
export function renderClusterEnv(vm: SimVm): string {
  const env: Record<string, string> = {
    CANONICAL_REVISION: 'latest',
    CANONICAL_SERVICE: vm.group ?? vm.hostname,
    CA_ADDR: 'istiod.istio-system.svc:15012',
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
    '  discoveryAddress: istiod.istio-system.svc:15012',
    '  proxyMetadata:',
    '    ISTIO_META_DNS_CAPTURE: "true"',
    `    ISTIO_META_AUTO_REGISTER_GROUP: ${vm.group ?? '""'}`,
    '  readinessProbe:',
    '    httpGet:',
    '      port: 8080',
  ]);
}
