import { isEastWestGateway, selects, serviceAddresses, type Service, type ServiceAddresses } from '../mesh-services.ts';
import type { MeshView } from '../mesh-view.ts';
import { isIpAddress, type HostsPin } from '../parsers/hosts-pins.ts';
import type { Evidence } from '../result.ts';
import { error, fail, pass, skip, vmControl, withoutCluster, type Outcome } from './control.ts';

/** pilot-agent's discovery address when neither CA_ADDR nor the mesh config names one (MeshConfig's default). */
const DEFAULT_DISCOVERY_ADDRESS = 'istiod.istio-system.svc:15012';

// A Service's cluster DNS name, `<service>.<namespace>.svc[.<cluster domain>]`, as istioctl writes CA_ADDR and discoveryAddress.
const SERVICE_HOST = /^(?<service>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.(?<namespace>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(?:\.[a-z0-9.-]+)?\.?$/;
// `host:port`, `[v6]:port`, or a host alone.
const HOST_PORT = /^(?:\[(?<v6>[^\]]+)\]|(?<host>[^:]+))(?::(?<port>\d{1,5}))?$/;

interface Target {
  /** Where the address comes from: `CA_ADDR`, `discoveryAddress`, both, or the default. */
  sources: string[];
  address: string;
  host: string;
}

interface Check {
  status: 'PASS' | 'FAIL' | 'ERROR' | 'SKIP';
  message: string;
}

/**
 * CFG-02: the control plane the VM is pinned to exists. `CA_ADDR` and the mesh config's `discoveryAddress` name
 * an istiod Service whose selector has running istiod pods (a removed revision leaves the VM pointing at
 * nothing), and an /etc/hosts pin of that name (what `istioctl x workload entry configure` appends: the east-west
 * gateway's address) points at an address that Service or the east-west gateway Service has now. A pin that can
 * only be compared with a DNS name (a load balancer known by hostname) is not checked: SKIP says so.
 */
export const cfg02 = vmControl(
  {
    id: 'CFG-02',
    severity: 'MEDIUM',
    title: 'Pinned control plane exists',
    remediation:
      'Compare CA_ADDR in cluster.env and discoveryAddress in /etc/istio/config/mesh with `kubectl get svc -n istio-system -l app=istiod` and ' +
      '`kubectl get pods -n istio-system -l app=istiod -L istio.io/rev`; regenerate the VM files with `istioctl x workload entry configure ' +
      "--revision <rev>` for a revision that runs, and update /etc/hosts to the east-west gateway's current address " +
      '(`kubectl get svc -n istio-system istio-eastwestgateway`).',
  },
  (_vm, snapshot, ctx) => {
    if (!ctx.mesh.available) return withoutCluster(ctx);
    if (!snapshot.clusterEnv.ok) return error(snapshot.clusterEnv.reason);
    if (!snapshot.meshConfig.ok) return error(snapshot.meshConfig.reason);
    const targets = discoveryTargets(snapshot.clusterEnv.value.get('CA_ADDR'), snapshot.meshConfig.value.discoveryAddress);
    const checks: Check[] = [];
    const evidence: Record<string, unknown> = {
      caAddr: snapshot.clusterEnv.value.get('CA_ADDR') || null,
      discoveryAddress: snapshot.meshConfig.value.discoveryAddress ?? null,
    };
    for (const target of uniqueHosts(targets)) {
      if (!target.host) {
        checks.push({ status: 'ERROR', message: `${sourcesOf(target)} ${JSON.stringify(target.address)} is not a host[:port]` });
        continue;
      }
      checks.push(...checkTarget(target, snapshot.hostsPins, ctx.mesh, controlPlaneOf(ctx.mesh), evidence));
    }
    return combine(checks, evidence);
  },
);

/** The addresses the agent uses: CA_ADDR for certificates, discoveryAddress for xDS; CA_ADDR defaults to the latter. */
function discoveryTargets(caAddr: string | undefined, discoveryAddress: string | undefined): Target[] {
  const targets: Target[] = [];
  if (discoveryAddress) targets.push({ sources: ['discoveryAddress'], address: discoveryAddress, host: hostOf(discoveryAddress) });
  if (caAddr) targets.push({ sources: ['CA_ADDR'], address: caAddr, host: hostOf(caAddr) });
  if (targets.length === 0)
    targets.push({
      sources: ['the default discovery address'],
      address: DEFAULT_DISCOVERY_ADDRESS,
      host: hostOf(DEFAULT_DISCOVERY_ADDRESS),
    });
  return targets;
}

/** The host of `host[:port]` or `[v6]:port`, lower-cased; '' when it is neither. */
function hostOf(address: string): string {
  const m = HOST_PORT.exec(address.trim());
  return (m?.groups?.v6 ?? m?.groups?.host ?? '').toLowerCase();
}

function uniqueHosts(targets: Target[]): Target[] {
  const byHost = new Map<string, Target>();
  for (const t of targets) {
    const seen = byHost.get(t.host);
    byHost.set(t.host, seen ? { ...seen, sources: [...seen.sources, ...t.sources] } : t);
  }
  return [...byHost.values()];
}

/** What every VM's check reads of the mesh's Services, gathered once per mesh view (built once, never changed) rather than per VM. */
interface ControlPlane {
  /** The istiod Services (`app=istiod`), each with its addresses. */
  istiods: ServiceWithAddresses[];
  /** The east-west gateways' Services, each with its addresses. */
  gateways: ServiceWithAddresses[];
  /** Every Service by `namespace/name`. */
  byName: Map<string, Service>;
  /** The namespaces where the audit read a Service or an istiod pod. */
  readNamespaces: Set<string>;
}

interface ServiceWithAddresses {
  service: Service;
  addresses: ServiceAddresses;
}

const controlPlanes = new WeakMap<MeshView, ControlPlane>();

function controlPlaneOf(mesh: MeshView): ControlPlane {
  const known = controlPlanes.get(mesh);
  if (known) return known;
  const withAddresses = (service: Service): ServiceWithAddresses => ({ service, addresses: serviceAddresses(service) });
  const plane: ControlPlane = {
    istiods: mesh.services.filter((s) => s.metadata.labels?.app === 'istiod').map(withAddresses),
    gateways: mesh.services.filter(isEastWestGateway).map(withAddresses),
    // Reversed, so that of two Services listed under one name the first is kept, as a search would find it.
    byName: new Map(mesh.services.map((s) => [ref(s), s] as const).reverse()),
    readNamespaces: new Set([...mesh.services.map((s) => s.metadata.namespace), ...mesh.istiods.map((p) => p.namespace)]),
  };
  controlPlanes.set(mesh, plane);
  return plane;
}

function checkTarget(
  target: Target,
  hostsPins: Evidence<HostsPin[]>,
  mesh: MeshView,
  plane: ControlPlane,
  evidence: Record<string, unknown>,
): Check[] {
  if (isIpAddress(target.host)) {
    // An address in place of a name: it must be one the control plane answers at.
    const owner = [...plane.istiods, ...plane.gateways].find((s) => ipsOf(s.addresses).includes(target.host))?.service;
    evidence.address = target.host;
    if (owner) return [{ status: 'PASS', message: `${sourcesOf(target)} ${target.address} is an address of the Service ${ref(owner)}` }];
    return [
      {
        status: 'FAIL',
        message: `${sourcesOf(target)} ${target.address} is an address of no istiod Service nor east-west gateway Service`,
      },
    ];
  }
  const name = SERVICE_HOST.exec(target.host)?.groups;
  if (!name)
    return [
      { status: 'SKIP', message: `${sourcesOf(target)} ${target.address} is not a cluster Service name: it is reached by DNS alone` },
    ];
  const checks: Check[] = [];
  const service = checkService(target, name.service!, name.namespace!, mesh, plane, evidence, checks);
  if (service === undefined) return checks;
  checks.push(checkPin(target, service, plane.gateways, hostsPins, evidence));
  return checks;
}

/** The named Service, when it exists and selects running istiod pods; checks gets what was found either way. */
function checkService(
  target: Target,
  serviceName: string,
  namespace: string,
  mesh: MeshView,
  plane: ControlPlane,
  evidence: Record<string, unknown>,
  checks: Check[],
): Service | undefined {
  const what = `${sourcesOf(target)} ${target.address}`;
  if (mesh.missingParts.includes('cluster/services.json')) {
    checks.push({ status: 'ERROR', message: `${what}: the bundle holds no Services (cluster/services.json is missing)` });
    return undefined;
  }
  const unread = mesh.problems.find((p) => p.part === 'services' && p.target === namespace);
  if (unread) {
    checks.push({ status: 'ERROR', message: `${what}: the Services of ${namespace} could not be read: ${unread.message}` });
    return undefined;
  }
  if (!plane.readNamespaces.has(namespace)) {
    checks.push({
      status: 'ERROR',
      message: `${what} ${names(target)} namespace ${namespace}, where the audit read no istiod Service (it read ${[...plane.readNamespaces].sort().join(', ') || 'none'})`,
    });
    return undefined;
  }
  const service = plane.byName.get(`${namespace}/${serviceName}`);
  evidence.service = `${namespace}/${serviceName}`;
  if (!service) {
    checks.push({ status: 'FAIL', message: `${what} ${names(target)} the Service ${serviceName}, which ${namespace} does not have` });
    return undefined;
  }
  const selector = service.spec?.selector;
  const revision = service.metadata.labels?.['istio.io/rev'] ?? selector?.['istio.io/rev'];
  evidence.revision = revision ?? null;
  if (mesh.missingParts.includes('cluster/istiod-pods.json')) {
    checks.push({ status: 'ERROR', message: `${what}: the bundle holds no istiod pods (cluster/istiod-pods.json is missing)` });
    return undefined;
  }
  const running = mesh.istiods.filter((p) => p.namespace === namespace && p.phase === 'Running' && selects(selector, p.labels));
  evidence.runningPods = running.map((p) => p.name);
  const of = `the Service ${serviceName}${revision ? ` (revision ${revision})` : ''}`;
  if (running.length === 0) {
    checks.push({ status: 'FAIL', message: `${what}: ${of} selects no running istiod pod` });
    return undefined;
  }
  checks.push({ status: 'PASS', message: `${what}: ${of} selects ${running.length} running istiod pod(s)` });
  return service;
}

/** The /etc/hosts pin of the host, if any, must point at an address of the Service or of the east-west gateway. */
function checkPin(
  target: Target,
  service: Service,
  gateways: ServiceWithAddresses[],
  hostsPins: Evidence<HostsPin[]>,
  evidence: Record<string, unknown>,
): Check {
  if (!hostsPins.ok) return { status: 'ERROR', message: `the /etc/hosts pin of ${target.host} cannot be read: ${hostsPins.reason}` };
  // The resolver takes the first line naming the host (hosts(5)).
  const pin = hostsPins.value.find((p) => p.names.includes(target.host));
  if (!pin) return { status: 'PASS', message: `/etc/hosts does not pin ${target.host}: it is resolved by DNS` };
  evidence.pin = { host: target.host, address: pin.address };
  const own = serviceAddresses(service);
  const ownIps = ipsOf(own);
  const gatewayIps = gateways.flatMap((g) => g.addresses.externalIps);
  evidence.serviceAddresses = ownIps;
  evidence.gatewayAddresses = gatewayIps;
  if (ownIps.includes(pin.address))
    return { status: 'PASS', message: `/etc/hosts pins ${target.host} to ${pin.address}, an address of the Service ${ref(service)}` };
  const gateway = gateways.find((g) => g.addresses.externalIps.includes(pin.address))?.service;
  if (gateway)
    return { status: 'PASS', message: `/etc/hosts pins ${target.host} to ${pin.address}, the east-west gateway ${ref(gateway)}'s address` };
  const hostnames = [...own.hostnames, ...gateways.flatMap((g) => g.addresses.hostnames)];
  if (hostnames.length > 0)
    return {
      status: 'SKIP',
      message: `/etc/hosts pins ${target.host} to ${pin.address}, which is no IP the Services show; their load balancer is known by DNS name only (${hostnames.join(', ')}), which the audit does not resolve`,
    };
  const known = [...ownIps, ...gatewayIps];
  return {
    status: 'FAIL',
    message:
      `/etc/hosts pins ${target.host} to ${pin.address}, an address neither the Service ${ref(service)} nor ` +
      `${gateways.length > 0 ? `the east-west gateway ${gateways.map((g) => ref(g.service)).join(', ')}` : 'an east-west gateway (none was found)'} has` +
      `${known.length > 0 ? ` (they have ${known.join(', ')})` : ''}`,
  };
}

/** The IPs of an istiod Service, cluster IPs and external ones alike. */
function ipsOf(addresses: ServiceAddresses): string[] {
  return [...addresses.clusterIps, ...addresses.externalIps];
}

function sourcesOf(target: Target): string {
  return target.sources.join(' and ');
}

/** The verb for the target's sources: one of them names, both name. */
function names(target: Target): string {
  return target.sources.length > 1 ? 'name' : 'names';
}

function ref(service: Service): string {
  return `${service.metadata.namespace}/${service.metadata.name}`;
}

/** FAIL when a check failed, else ERROR, else SKIP when one could not be made, else PASS; the message says each. */
function combine(checks: Check[], evidence: Record<string, unknown>): Outcome {
  for (const status of ['FAIL', 'ERROR', 'SKIP'] as const) {
    const hits = checks.filter((c) => c.status === status);
    if (hits.length === 0) continue;
    const message = hits.map((c) => c.message).join('; ');
    return status === 'FAIL' ? fail(message, evidence) : status === 'ERROR' ? error(message, evidence) : skip(message, evidence);
  }
  return pass(checks.map((c) => c.message).join('; '), evidence);
}
