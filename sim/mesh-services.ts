import type { KubeList } from '../lib/core/evidence-bundle.ts';
import { EAST_WEST_GATEWAY_LABEL, EAST_WEST_GATEWAY_NAME } from '../lib/core/mesh-services.ts';
import type { SimFleet, SimNamespace } from './fleet.ts';
import { ISTIO_SYSTEM, kubeTime, kubeUid, resourceVersion } from './kube-metadata.ts';
import { hashString } from './random.ts';

/** The east-west gateway's load balancer address, which `istioctl x workload entry configure` pins istiod's name to. */
export const SIM_GATEWAY_IP = '10.19.255.10';
/** The address the gateway had before its load balancer was recreated: what a `hosts-pin-stale` VM still pins. */
export const SIM_STALE_GATEWAY_IP = '10.19.255.9';
/** The istiod revision a VM with the `istiod-revision-removed` fault is still pinned to. */
export const SIM_REMOVED_REVISION = '1-22';

/**
 * What a VM namespace offers to select its entries: the first namespace serves its VMs through a ServiceEntry
 * with a workloadSelector (a service that lives on VMs only), the others through a Service, as the Istio VM
 * guide does.
 */
function servedByServiceEntry(fleet: SimFleet, ns: SimNamespace): boolean {
  return fleet.namespaces[0]?.name === ns.name;
}

/** The Services of the simulated cluster, as a v1 ServiceList: the VM namespaces', istiod's and the east-west gateway's. */
export function simServices(fleet: SimFleet): KubeList {
  const items: unknown[] = [
    service(fleet, ISTIO_SYSTEM, 'istiod', {
      labels: {
        app: 'istiod',
        'install.operator.istio.io/owning-resource': 'unknown',
        istio: 'pilot',
        'istio.io/rev': 'default',
        'operator.istio.io/component': 'Pilot',
        release: 'istiod',
      },
      // The chart's default-revision Service selects istio=pilot besides app=istiod, so it never selects a canary.
      selector: { app: 'istiod', istio: 'pilot' },
      ports: [
        { name: 'grpc-xds', protocol: 'TCP', port: 15010, targetPort: 15010 },
        { name: 'https-dns', protocol: 'TCP', port: 15012, targetPort: 15012 },
        { name: 'https-webhook', protocol: 'TCP', port: 443, targetPort: 15017 },
        { name: 'http-monitoring', protocol: 'TCP', port: 15014, targetPort: 15014 },
      ],
    }),
    {
      ...service(fleet, ISTIO_SYSTEM, EAST_WEST_GATEWAY_NAME, {
        labels: {
          app: EAST_WEST_GATEWAY_NAME,
          [EAST_WEST_GATEWAY_LABEL.key]: EAST_WEST_GATEWAY_LABEL.value,
          'istio.io/rev': 'default',
          'operator.istio.io/component': 'IngressGateways',
          'topology.istio.io/network': 'network1',
        },
        selector: {
          app: EAST_WEST_GATEWAY_NAME,
          [EAST_WEST_GATEWAY_LABEL.key]: EAST_WEST_GATEWAY_LABEL.value,
          'topology.istio.io/network': 'network1',
        },
        ports: [
          { name: 'status-port', protocol: 'TCP', port: 15021, targetPort: 15021, nodePort: 31846 },
          { name: 'mtls', protocol: 'TCP', port: 15443, targetPort: 15443, nodePort: 30952 },
          { name: 'tcp-istiod', protocol: 'TCP', port: 15012, targetPort: 15012, nodePort: 32104 },
          { name: 'tcp-webhook', protocol: 'TCP', port: 15017, targetPort: 15017, nodePort: 31377 },
        ],
        type: 'LoadBalancer',
      }),
      status: { loadBalancer: { ingress: [{ ip: SIM_GATEWAY_IP, ipMode: 'VIP' }] } },
    },
    ...fleet.namespaces
      .filter((ns) => !servedByServiceEntry(fleet, ns))
      .map((ns) =>
        service(fleet, ns.name, ns.group, {
          labels: { app: ns.group },
          selector: { app: ns.group },
          ports: [{ name: 'http', protocol: 'TCP', port: 8080, targetPort: 8080 }],
        }),
      ),
  ];
  return { apiVersion: 'v1', kind: 'ServiceList', metadata: { resourceVersion: '482913' }, items: sortedByKey(items) };
}

/** The ServiceEntries of the VM namespaces, as a networking.istio.io/v1 ServiceEntryList. */
export function simServiceEntries(fleet: SimFleet): KubeList {
  const items = fleet.namespaces
    .filter((ns) => servedByServiceEntry(fleet, ns))
    .map((ns) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: {
        name: ns.group,
        namespace: ns.name,
        uid: kubeUid(fleet, `serviceentry/${ns.name}/${ns.group}`),
        resourceVersion: resourceVersion(fleet, `se/${ns.name}`),
        generation: 1,
        creationTimestamp: kubeTime(fleet.now.getTime() - 120 * 86_400_000),
      },
      spec: {
        hosts: [`${ns.group}.${ns.name}.svc.cluster.local`],
        location: 'MESH_INTERNAL',
        ports: [{ name: 'http', number: 8080, protocol: 'HTTP', targetPort: 8080 }],
        resolution: 'STATIC',
        workloadSelector: { labels: { app: ns.group } },
      },
    }));
  return { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntryList', metadata: { resourceVersion: '482913' }, items };
}

interface ServiceSpec {
  labels: Record<string, string>;
  selector: Record<string, string>;
  ports: unknown[];
  type?: 'ClusterIP' | 'LoadBalancer';
}

/** A Service as the API server returns it in a core List (no kind or apiVersion on the item). */
function service(fleet: SimFleet, namespace: string, name: string, s: ServiceSpec): Record<string, unknown> {
  const h = hashString(`${fleet.seed}:svc/${namespace}/${name}`);
  const clusterIp = `172.20.${(h >>> 8) % 256}.${(h % 250) + 2}`;
  return {
    metadata: {
      name,
      namespace,
      uid: kubeUid(fleet, `service/${namespace}/${name}`),
      resourceVersion: String(100_000 + (h % 900_000)),
      creationTimestamp: kubeTime(fleet.now.getTime() - 120 * 86_400_000),
      labels: s.labels,
    },
    spec: {
      ports: s.ports,
      selector: s.selector,
      clusterIP: clusterIp,
      clusterIPs: [clusterIp],
      type: s.type ?? 'ClusterIP',
      sessionAffinity: 'None',
      ...(s.type === 'LoadBalancer' ? { externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true } : {}),
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
    },
    status: { loadBalancer: {} },
  };
}

function sortedByKey(items: unknown[]): unknown[] {
  const key = (o: unknown): string => {
    const m = (o as { metadata: { namespace: string; name: string } }).metadata;
    return `${m.namespace}/${m.name}`;
  };
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
