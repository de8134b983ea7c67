import { formatDiagnosticOutput } from '../../lib/core/diagnostic-output.ts';
import type { EvidenceBundle, InstanceInformation, Invocation } from '../../lib/core/evidence-bundle.ts';
import { LOG_PATTERNS } from '../../lib/core/parsers/logs-summary.ts';

/** What a test VM looks like; every field has a healthy default. */
export interface TestVm {
  instanceId: string;
  hostname?: string;
  ip?: string;
  /** The VM's `IPAddress` in SSM's inventory; default `ip`. */
  ssmIp?: string;
  namespace?: string;
  group?: string | null;
  network?: string;
  activeState?: string;
  subState?: string;
  httpCode?: string;
  curlExit?: string;
  logs?: string;
  status?: string;
  statusDetails?: string;
  output?: string;
  pingStatus?: string;
  /** Extra cluster.env lines, e.g. `ISTIO_AGENT_FLAGS='…'`. */
  env?: string[];
  /** Sections to add (or to replace a default one of the same name). */
  sections?: Array<{ name: string; content: string; rc?: number; cut?: boolean; missing?: string[] }>;
}

export const NOW = '2026-11-26T06:00:00.000Z';

/** Renders a test VM's diagnostic output in format v1. */
export function vmOutput(vm: TestVm): string {
  const hostname = vm.hostname ?? `host-${vm.instanceId.slice(-4)}`;
  const ns = vm.namespace ?? 'payments';
  const ip = vm.ip ?? '10.0.0.1';
  const group = vm.group === undefined ? `${ns}-vm` : vm.group;
  const env = [
    `ISTIO_NAMESPACE='${ns}'`,
    `ISTIO_META_NETWORK='${vm.network ?? ''}'`,
    `ISTIO_SVC_IP='${ip}'`,
    ...(group ? [`ISTIO_META_AUTO_REGISTER_GROUP='${group}'`] : []),
    ...(vm.env ?? []),
  ];
  const defaults = [
    { name: 'identity', content: `hostname=${hostname}\nips=${ip}\nclock=${Date.parse(NOW) / 1000}` },
    {
      name: 'systemd',
      content: `LoadState=loaded\nActiveState=${vm.activeState ?? 'active'}\nSubState=${vm.subState ?? 'running'}\nUnitFileState=enabled\nNRestarts=0`,
    },
    { name: 'readiness', content: `http_code=${vm.httpCode ?? '200'}\ncurl_exit=${vm.curlExit ?? '0'}` },
    { name: 'cluster-env', content: env.join('\n') },
    { name: 'logs', content: vm.logs ?? QUIET_LOGS },
  ];
  const extra = vm.sections ?? [];
  return formatDiagnosticOutput('@@fa-0123456789abcdef', [...defaults.filter((d) => !extra.some((e) => e.name === d.name)), ...extra]);
}

/** A WorkloadEntry as istiod auto-registers it. */
export function workloadEntry(
  namespace: string,
  group: string,
  ip: string,
  extra: { network?: string; auto?: boolean; name?: string } = {},
): unknown {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: {
      name: extra.name ?? `${group}-${ip}${extra.network ? `-${extra.network}` : ''}`,
      namespace,
      annotations:
        extra.auto === false
          ? {}
          : { 'istio.io/autoRegistrationGroup': group, 'istio.io/workloadController': 'istiod-a', 'istio.io/connectedAt': NOW },
    },
    spec: { address: ip, ...(extra.network ? { network: extra.network } : {}), serviceAccount: `${group}` },
  };
}

/** A syncz entry of a connected proxy. */
export function syncStatus(proxy: string): unknown {
  return { cluster_id: 'Kubernetes', proxy, proxy_type: 'sidecar', istio_version: '1.24.6', cluster_sent: 'n1', cluster_acked: 'n1' };
}

/** Builds a bundle: VMs, their WorkloadEntries and istiod replicas' syncz. */
export function buildBundle(options: {
  vms: TestVm[];
  entries?: unknown[];
  syncz?: Record<string, unknown[]>;
  pods?: string[];
  cluster?: boolean;
}): EvidenceBundle {
  const inventory: InstanceInformation[] = options.vms.map((vm) => ({
    InstanceId: vm.instanceId,
    PingStatus: vm.pingStatus ?? 'Online',
    IPAddress: vm.ssmIp ?? vm.ip ?? '10.0.0.1',
  }));
  const invocations: Record<string, Invocation> = {};
  for (const vm of options.vms) {
    invocations[vm.instanceId] = {
      InstanceId: vm.instanceId,
      Status: vm.status ?? 'Success',
      StatusDetails: vm.statusDetails ?? vm.status ?? 'Success',
      ResponseCode: (vm.status ?? 'Success') === 'Success' ? 0 : -1,
      StandardOutputContent: vm.output ?? ((vm.status ?? 'Success') === 'Success' ? vmOutput(vm) : ''),
      StandardErrorContent: '',
    };
  }
  const syncz = options.syncz ?? { 'istiod-a': [] };
  const pods = options.pods ?? Object.keys(syncz);
  return {
    manifest: { bundleVersion: 1, runId: 'test-run', startedAt: NOW, finishedAt: NOW, source: 'replay' },
    inventory: { InstanceInformationList: inventory },
    invocations,
    ...(options.cluster === false
      ? {}
      : {
          cluster: {
            workloadEntries: { apiVersion: 'v1', kind: 'List', items: options.entries ?? [] },
            workloadGroups: { items: [] },
            istiodPods: { items: pods.map((name) => ({ metadata: { name, namespace: 'istio-system' }, status: { phase: 'Running' } })) },
            syncz,
            rootCa: {},
          },
        }),
  };
}

/** The logs section of a VM whose logs matched nothing: every pattern counted, as the script prints it. */
export const QUIET_LOGS = ['source journal ok 0', ...LOG_PATTERNS.map((p) => `count ${p} 0`)].join('\n');
