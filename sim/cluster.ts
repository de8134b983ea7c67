import type { ClusterEvidence, ConfigMap, InstanceInformation, Invocation } from '../lib/core/evidence-bundle.ts';
import { autoRegisteredName } from '../lib/core/controls/registration.ts';
import type { SimFleet, SimNamespace, SimVm } from './fleet.ts';
import { hasWorkloadEntry, isConnected, vmProxyLabels, vmServiceName } from './fleet.ts';
import { ISTIO_SYSTEM, kubeTime, kubeUid, resourceVersion } from './kube-metadata.ts';
import { simServiceEntries, simServices } from './mesh-services.ts';
import { renderVmOutput } from './vm-output.ts';

/** The managed node as SSM DescribeInstanceInformation describes it. */
export function simInstanceInformation(fleet: SimFleet, vm: SimVm): InstanceInformation {
  const lost = vm.faults.includes('ssm-undeliverable');
  return {
    InstanceId: vm.instanceId,
    PingStatus: lost ? 'ConnectionLost' : 'Online',
    LastPingDateTime: new Date(fleet.now.getTime() - (lost ? 3 * 3600_000 : 60_000)).toISOString(),
    AgentVersion: '3.3.1142.0',
    IsLatestVersion: false,
    PlatformType: 'Linux',
    PlatformName: vm.hybrid ? 'Ubuntu' : 'Amazon Linux',
    PlatformVersion: vm.hybrid ? '22.04' : '2023',
    ResourceType: vm.hybrid ? 'ManagedInstance' : 'EC2Instance',
    IPAddress: vm.ip,
    ComputerName: vm.hybrid ? `${vm.hostname}.corp.example` : `${vm.hostname}.ec2.internal`,
    Tags: [{ Key: 'istio-fleet', Value: vm.namespace }],
  };
}

/** The GetCommandInvocation-shaped result of running the diagnostic script on the VM. */
export function simInvocation(fleet: SimFleet, vm: SimVm): Invocation {
  if (vm.faults.includes('ssm-undeliverable')) {
    return {
      InstanceId: vm.instanceId,
      Status: 'Failed',
      StatusDetails: 'Undeliverable',
      ResponseCode: -1,
      StandardOutputContent: '',
      StandardErrorContent: '',
    };
  }
  const start = new Date(fleet.now.getTime() - 4000).toISOString();
  return {
    InstanceId: vm.instanceId,
    Status: 'Success',
    StatusDetails: 'Success',
    ResponseCode: 0,
    ExecutionStartDateTime: start,
    ExecutionEndDateTime: fleet.now.toISOString(),
    StandardOutputContent: renderVmOutput(fleet, vm, fleet.vmCertificates?.get(vm.instanceId)),
    StandardErrorContent: '',
  };
}

/** What the Kubernetes API and every istiod replica tell about the simulated mesh. */
export function simClusterEvidence(fleet: SimFleet): ClusterEvidence {
  const now = fleet.now.getTime();
  const connectedAt = new Date(now - 20 * 60_000).toISOString();
  const leakedConnectedAt = new Date(now - 3 * 3600_000).toISOString();
  const probed = new Set(fleet.namespaces.filter((ns) => ns.probe).map((ns) => ns.name));
  const entries: unknown[] = [];
  for (const vm of fleet.vms.filter(hasWorkloadEntry)) {
    entries.push(
      workloadEntry(fleet, {
        namespace: vm.namespace,
        group: vm.group!,
        ip: vm.ip,
        serviceAccount: vm.serviceAccount,
        istiod: vm.istiod,
        connectedAt: vm.faults.includes('stale-connected-at') ? leakedConnectedAt : connectedAt,
        health: probed.has(vm.namespace) ? (vm.faults.includes('unhealthy-workload-entry') ? 'unhealthy' : 'healthy') : 'none',
        // istiod merges the proxy's own labels (ISTIO_METAJSON_LABELS) over the group's.
        app: vmProxyLabels(vm)?.app,
      }),
    );
    if (vm.faults.includes('duplicate-workload-entry')) entries.push(handMadeEntry(fleet, vm));
  }
  for (const orphan of fleet.orphanEntries) {
    const ns = fleet.namespaces.find((n) => n.name === orphan.namespace)!;
    entries.push(
      workloadEntry(fleet, {
        namespace: orphan.namespace,
        group: orphan.group,
        ip: orphan.ip,
        serviceAccount: ns.serviceAccount,
        istiod: orphan.istiod,
        connectedAt,
        health: ns.probe ? 'healthy' : 'none',
      }),
    );
  }
  const syncz: Record<string, unknown[]> = {};
  for (const istiod of fleet.istiods) {
    const proxies = fleet.vms
      .filter((vm) => isConnected(vm) && vm.istiod === istiod)
      .map((vm) => ({
        name: `${vm.hostname}.${vm.namespace}`,
        key: vm.instanceId,
        istioVersion: vm.istioVersion,
        faults: vm.faults as readonly string[],
      }));
    for (const unknown of fleet.unknownProxies.filter((u) => u.istiod === istiod)) {
      proxies.push({ name: unknown.name, key: unknown.ip, istioVersion: unknown.istioVersion, faults: [] });
    }
    // istiod's SortedClients orders connections by connection id, which starts with the proxy id.
    syncz[istiod] = proxies.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((p) => syncStatus(fleet, p));
  }
  const rootCa: Record<string, ConfigMap> = {};
  if (fleet.pki) for (const ns of fleet.namespaces) rootCa[ns.name] = rootCaConfigMap(fleet, ns.name, fleet.pki.root.pem);
  return {
    workloadEntries: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntryList',
      metadata: { resourceVersion: resourceVersion(fleet, 'list') },
      items: entries,
    },
    workloadGroups: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadGroupList',
      metadata: { resourceVersion: resourceVersion(fleet, 'list') },
      items: fleet.namespaces.map((ns) => workloadGroup(fleet, ns)),
    },
    istiodPods: {
      apiVersion: 'v1',
      kind: 'PodList',
      metadata: { resourceVersion: resourceVersion(fleet, 'list') },
      items: fleet.istiods.map((name, i) => istiodPod(fleet, name, i)),
    },
    services: simServices(fleet),
    serviceEntries: simServiceEntries(fleet),
    syncz,
    rootCa,
  };
}

/** The root-of-trust ConfigMap istiod writes into every namespace (istio-ca-root-cert unless renamed). */
export function rootCaConfigMap(fleet: SimFleet, namespace: string, rootPem: string): ConfigMap {
  const name = fleet.istiodSettings.rootCaConfigMap;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      uid: kubeUid(fleet, `configmap/${namespace}/${name}`),
      resourceVersion: resourceVersion(fleet, `configmap/${namespace}`),
      creationTimestamp: kubeTime(fleet.now.getTime() - 90 * 86_400_000),
      labels: { 'istio.io/config': 'true' },
    },
    data: { 'root-cert.pem': rootPem },
  };
}

interface EntrySpec {
  namespace: string;
  group: string;
  ip: string;
  serviceAccount: string;
  istiod: string;
  connectedAt: string;
  health: 'none' | 'healthy' | 'unhealthy';
  /** The `app` label of the entry, when the proxy's labels override the group's. */
  app?: string;
}

function workloadEntry(fleet: SimFleet, e: EntrySpec): unknown {
  const name = autoRegisteredName(e.group, e.ip, '');
  const annotations: Record<string, string> = {
    'istio.io/autoRegistrationGroup': e.group,
    'istio.io/connectedAt': e.connectedAt,
    'istio.io/workloadController': e.istiod,
  };
  if (e.health !== 'none') annotations['proxy.istio.io/health-checks-enabled'] = 'true';
  const probeTime = kubeTime(fleet.now.getTime() - 5_000);
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: {
      name,
      namespace: e.namespace,
      uid: kubeUid(fleet, `workloadentry/${e.namespace}/${name}`),
      resourceVersion: resourceVersion(fleet, `workloadentry/${e.namespace}/${name}`),
      generation: 1,
      creationTimestamp: kubeTime(Date.parse(e.connectedAt)),
      annotations,
      labels: { app: e.app ?? e.group, 'service.istio.io/canonical-name': e.group },
      ownerReferences: [
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'WorkloadGroup',
          name: e.group,
          uid: kubeUid(fleet, `workloadgroup/${e.namespace}/${e.group}`),
          controller: true,
        },
      ],
    },
    spec: {
      address: e.ip,
      labels: { app: e.app ?? e.group, 'service.istio.io/canonical-name': e.group },
      serviceAccount: e.serviceAccount,
    },
    ...(e.health === 'none'
      ? {}
      : {
          status: {
            conditions: [
              e.health === 'healthy'
                ? { type: 'Healthy', status: 'True', lastProbeTime: probeTime, lastTransitionTime: e.connectedAt }
                : {
                    type: 'Healthy',
                    status: 'False',
                    lastProbeTime: probeTime,
                    lastTransitionTime: kubeTime(fleet.now.getTime() - 4 * 60_000),
                    message: `Get "http://${e.ip}:8080/ready": dial tcp ${e.ip}:8080: connect: connection refused`,
                  },
            ],
          },
        }),
  };
}

/** An entry someone applied by hand for the VM, on top of the one auto-registration keeps. */
function handMadeEntry(fleet: SimFleet, vm: SimVm): unknown {
  const name = `${vm.hostname}-manual`;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: {
      name,
      namespace: vm.namespace,
      uid: kubeUid(fleet, `workloadentry/${vm.namespace}/${name}`),
      resourceVersion: resourceVersion(fleet, `workloadentry/${vm.namespace}/${name}`),
      generation: 1,
      creationTimestamp: kubeTime(fleet.now.getTime() - 40 * 86_400_000),
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '' },
      labels: { app: vmServiceName(vm) },
    },
    spec: { address: vm.ip, labels: { app: vmServiceName(vm) }, serviceAccount: vm.serviceAccount },
  };
}

function workloadGroup(fleet: SimFleet, ns: SimNamespace): unknown {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadGroup',
    metadata: {
      name: ns.group,
      namespace: ns.name,
      uid: kubeUid(fleet, `workloadgroup/${ns.name}/${ns.group}`),
      resourceVersion: resourceVersion(fleet, `workloadgroup/${ns.name}`),
      generation: 1,
      creationTimestamp: kubeTime(fleet.now.getTime() - 120 * 86_400_000),
    },
    spec: {
      metadata: { labels: { app: ns.group } },
      template: { serviceAccount: ns.serviceAccount },
      ...(ns.probe ? { probe: { periodSeconds: 5, initialDelaySeconds: 1, httpGet: { port: 8080, path: '/ready' } } } : {}),
    },
  };
}

function istiodPod(fleet: SimFleet, name: string, index: number): unknown {
  const settings = fleet.istiodSettings;
  const started = kubeTime(fleet.now.getTime() - (3 + index) * 86_400_000);
  const templateHash = name.split('-').slice(-2, -1)[0] ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: name.slice(0, name.lastIndexOf('-') + 1),
      namespace: ISTIO_SYSTEM,
      uid: kubeUid(fleet, `pod/${name}`),
      resourceVersion: resourceVersion(fleet, `pod/${name}`),
      creationTimestamp: started,
      labels: {
        app: 'istiod',
        istio: 'pilot',
        'istio.io/rev': 'default',
        'install.operator.istio.io/owning-resource': 'unknown',
        'operator.istio.io/component': 'Pilot',
        'pod-template-hash': templateHash,
        'sidecar.istio.io/inject': 'false',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `istiod-${templateHash}`,
          uid: kubeUid(fleet, `rs/${templateHash}`),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      serviceAccountName: 'istiod',
      containers: [
        {
          name: 'discovery',
          image: `docker.io/istio/pilot:${fleet.istioVersion}`,
          args: [
            'discovery',
            '--monitoringAddr=:15014',
            '--log_output_level=default:info',
            '--domain',
            'cluster.local',
            ...(settings.keepaliveMaxServerConnectionAge === null
              ? []
              : ['--keepaliveMaxServerConnectionAge', settings.keepaliveMaxServerConnectionAge]),
          ],
          // As the Helm chart renders it: PILOT_CA_CERT_CONFIGMAP only when global.trustBundleName renames the root.
          env: [
            { name: 'REVISION', value: 'default' },
            ...(settings.rootCaConfigMap === 'istio-ca-root-cert'
              ? []
              : [{ name: 'PILOT_CA_CERT_CONFIGMAP', value: settings.rootCaConfigMap }]),
            { name: 'PILOT_ENABLE_ANALYSIS', value: 'false' },
          ],
          ports: [
            { containerPort: 8080, protocol: 'TCP' },
            { containerPort: 15010, protocol: 'TCP' },
            { containerPort: 15017, protocol: 'TCP' },
          ],
        },
      ],
    },
    status: {
      phase: 'Running',
      podIP: `10.100.0.${12 + index}`,
      startTime: started,
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: started },
        { type: 'Ready', status: 'True', lastTransitionTime: started },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: started },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: started },
      ],
    },
  };
}

const TYPE_URLS = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

/** The Envoy NACK of a VM with the xds-nack fault, as Envoy words a rejected listener. */
export const SIM_NACK_MESSAGE =
  "Error adding/updating listener(s) virtualInbound: envoy.filters.network.http_connection_manager: Didn't find a registered implementation for 'envoy.filters.http.wasm' with type URL: ''";

/** One entry of istiod 1.24's /debug/syncz (debug.go SyncStatus): flat nonces plus the per-type-URL map. */
function syncStatus(fleet: SimFleet, proxy: { name: string; key: string; istioVersion: string; faults: readonly string[] }): unknown {
  const status: Record<string, unknown> = {
    cluster_id: 'Kubernetes',
    proxy: proxy.name,
    proxy_type: 'sidecar',
    istio_version: proxy.istioVersion,
  };
  const resources: Record<string, unknown> = {};
  const sentTime = kubeTime(fleet.now.getTime() - 90_000);
  for (const [short, typeUrl] of Object.entries(TYPE_URLS)) {
    const sent = nonce(fleet, `${proxy.key}/${short}/2`);
    let acked = sent;
    let lastError: string | undefined;
    if (short === 'endpoint' && proxy.faults.includes('xds-stale')) acked = nonce(fleet, `${proxy.key}/${short}/1`);
    if (short === 'listener' && proxy.faults.includes('xds-nack')) {
      acked = nonce(fleet, `${proxy.key}/${short}/1`);
      lastError = SIM_NACK_MESSAGE;
    }
    status[`${short}_sent`] = sent;
    status[`${short}_acked`] = acked;
    resources[typeUrl] = { sent, acked, sentTime, ...(lastError ? { lastError } : {}) };
  }
  status.resources = resources;
  return status;
}

const nonce = kubeUid;
