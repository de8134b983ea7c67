import type { ClusterEvidence, InstanceInformation, Invocation } from '../core/evidence-bundle.ts';
import { autoRegisteredName } from '../core/controls/registration.ts';
import type { SimFleet, SimVm } from './fleet.ts';
import { hasWorkloadEntry, isConnected } from './fleet.ts';
import { renderVmOutput } from './vm-output.ts';

const ISTIO_SYSTEM = 'istio-system';

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
    return { InstanceId: vm.instanceId, Status: 'Failed', StatusDetails: 'Undeliverable', ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: '' };
  }
  const start = new Date(fleet.now.getTime() - 4000).toISOString();
  return {
    InstanceId: vm.instanceId,
    Status: 'Success',
    StatusDetails: 'Success',
    ResponseCode: 0,
    ExecutionStartDateTime: start,
    ExecutionEndDateTime: fleet.now.toISOString(),
    StandardOutputContent: renderVmOutput(fleet, vm),
    StandardErrorContent: '',
  };
}

/** What the Kubernetes API and every istiod replica tell about the simulated mesh. */
export function simClusterEvidence(fleet: SimFleet): ClusterEvidence {
  const connectedAt = new Date(fleet.now.getTime() - 20 * 60_000).toISOString();
  const entries = fleet.vms.filter(hasWorkloadEntry).map((vm) => workloadEntry(vm.namespace, vm.group!, vm.ip, vm.serviceAccount, vm.istiod, connectedAt));
  for (const orphan of fleet.orphanEntries) {
    const ns = fleet.namespaces.find((n) => n.name === orphan.namespace)!;
    entries.push(workloadEntry(orphan.namespace, orphan.group, orphan.ip, ns.serviceAccount, orphan.istiod, connectedAt));
  }
  const syncz: Record<string, unknown[]> = {};
  for (const istiod of fleet.istiods) {
    syncz[istiod] = fleet.vms.filter((vm) => isConnected(vm) && vm.istiod === istiod).map((vm) => syncStatus(vm));
  }
  return {
    workloadEntries: { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntryList', items: entries },
    workloadGroups: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadGroupList',
      items: fleet.namespaces.map((ns) => ({
        apiVersion: 'networking.istio.io/v1',
        kind: 'WorkloadGroup',
        metadata: { name: ns.group, namespace: ns.name },
        spec: { metadata: { labels: { app: ns.group } }, template: { serviceAccount: ns.serviceAccount } },
      })),
    },
    istiodPods: {
      apiVersion: 'v1',
      kind: 'PodList',
      items: fleet.istiods.map((name, i) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ISTIO_SYSTEM, labels: { app: 'istiod', 'istio.io/rev': 'default' } },
        status: { phase: 'Running', podIP: `10.100.0.${12 + i}` },
      })),
    },
    syncz,
    rootCa: {},
  };
}

function workloadEntry(namespace: string, group: string, ip: string, serviceAccount: string, istiod: string, connectedAt: string): unknown {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: {
      name: autoRegisteredName(group, ip, ''),
      namespace,
      annotations: {
        'istio.io/autoRegistrationGroup': group,
        'istio.io/workloadController': istiod,
        'istio.io/connectedAt': connectedAt,
      },
      labels: { app: group, 'service.istio.io/canonical-name': group },
      ownerReferences: [{ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', name: group, controller: true }],
    },
    spec: { address: ip, labels: { app: group }, serviceAccount },
  };
}

function syncStatus(vm: SimVm): unknown {
  const nonce = `${vm.instanceId.slice(-6)}-1`;
  const types = ['cluster', 'listener', 'route', 'endpoint'];
  const status: Record<string, unknown> = {
    cluster_id: 'Kubernetes',
    proxy: `${vm.hostname}.${vm.namespace}`,
    proxy_type: 'sidecar',
    proxy_version: vm.istioVersion,
    istio_version: vm.istioVersion,
  };
  for (const t of types) {
    status[`${t}_sent`] = nonce;
    status[`${t}_acked`] = nonce;
  }
  return status;
}
