import { parseIstioVersion } from '../parsers/versions.ts';
import { proxySyncStatus, XDS_TYPES } from '../proxy-status.ts';
import {
  defineControl,
  error,
  excerpt,
  fail,
  joinedVmControl,
  pass,
  skip,
  TIMED_OUT,
  vmControl,
  withEvidence,
  withoutCluster,
  type AuditContext,
  type Outcome,
} from './control.ts';
import type { VmRecord } from '../join.ts';
import { appendTo } from '../multimap.ts';

/** XDS-01: the VM's proxy is connected to some istiod replica (merged /debug/syncz of all replicas). */
export const xds01 = joinedVmControl(
  {
    id: 'XDS-01',
    severity: 'CRITICAL',
    title: 'Proxy connected to istiod',
    remediation:
      'Run `istioctl proxy-status`; on the VM check `journalctl -u istio` for connection errors to istiod and that ' +
      '`discoveryAddress` in /etc/istio/config/mesh resolves (/etc/hosts) and is reachable on 15012.',
  },
  (vm, _snapshot, ctx) => {
    if (!ctx.mesh.available) return withoutCluster(ctx);
    if (!vm.proxyName) return error('the proxy name is unknown: the VM reported neither a node id nor hostname and ISTIO_NAMESPACE');
    if (vm.proxy.length > 0) {
      return pass(`${vm.proxyName} is connected to ${vm.proxy.map((p) => p.replica).join(', ')}`, {
        proxy: vm.proxyName,
        istiod: vm.proxy.map((p) => p.replica),
      });
    }
    const silent = ctx.mesh.istiods.filter((i) => !i.answered).map((i) => i.name);
    if (silent.length > 0) {
      return error(`${vm.proxyName} is on no replica that answered, and ${silent.join(', ')} did not answer`, {
        proxy: vm.proxyName,
        silentReplicas: silent,
      });
    }
    if (ctx.mesh.istiods.length === 0)
      return error('no istiod replica was found, so no proxy status could be read', { proxy: vm.proxyName });
    return fail(`${vm.proxyName} is not connected to any istiod replica`, {
      proxy: vm.proxyName,
      replicasAsked: ctx.mesh.istiods.map((i) => i.name),
    });
  },
);

/** XDS-04: the installed sidecar package version equals the version the running proxy reports. */
export const xds04 = vmControl(
  {
    id: 'XDS-04',
    severity: 'MEDIUM',
    title: 'Running proxy matches the installed package',
    remediation: 'The package was upgraded but the agent not restarted: `systemctl restart istio` (drain traffic first).',
  },
  (_vm, snapshot) =>
    withEvidence(snapshot.versions, (versions) => {
      if (snapshot.sections.get('versions')?.rc === TIMED_OUT)
        return error('a command of the versions section (the package query or pilot-agent) timed out on the VM');
      if (!versions.packageVersion)
        return skip('no istio-sidecar package is installed (dpkg/rpm): nothing to compare', {
          pilotAgentVersion: versions.pilotAgentVersion ?? null,
        });
      if (!snapshot.serverInfo.ok) return error(snapshot.serverInfo.reason);
      const running = snapshot.serverInfo.value.istioVersion;
      const evidence = { packageVersion: versions.packageVersion, runningVersion: running ?? null };
      const installed = parseIstioVersion(versions.packageVersion);
      const live = parseIstioVersion(running);
      if (!installed || !live) return error('a version could not be read', evidence);
      if (installed.join('.') !== live.join('.'))
        return fail(`the package is ${installed.join('.')} but the running proxy is ${live.join('.')}`, evidence);
      return pass(`the running proxy is the installed ${installed.join('.')}`, evidence);
    }),
);

/** XDS-02: every xDS type the proxy watches is SYNCED; STALE and ERROR fail (quoting the NACK), NOT SENT is a LOW finding of its own. */
export const xds02 = joinedVmControl(
  {
    id: 'XDS-02',
    severity: 'HIGH',
    title: 'Proxy in sync with istiod',
    remediation:
      'Run `istioctl proxy-status <proxy>`; a STALE type means the proxy did not acknowledge the last push (check its connection and CPU), ' +
      "an ERROR type quotes Envoy's rejection: fix the configuration istiod pushed (`istioctl analyze`).",
  },
  (vm, _snapshot, ctx) => {
    const unconnected = notConnected(vm, ctx);
    if (unconnected) return unconnected;
    const problems: string[] = [];
    const notSent: string[] = [];
    const states: Record<string, Record<string, string>> = {};
    for (const presence of vm.proxy) {
      const status = proxySyncStatus(presence.status);
      states[presence.replica] = Object.fromEntries(XDS_TYPES.map((t) => [t, status.types[t].state]));
      for (const type of XDS_TYPES) {
        const s = status.types[type];
        if (s.state === 'STALE') problems.push(`${type} is STALE on ${presence.replica} (sent ${s.sent}, acked ${s.acked || 'nothing'})`);
        if (s.state === 'ERROR') problems.push(`${type} was rejected on ${presence.replica}: ${excerpt(s.lastError ?? '', 200)}`);
        if (s.state === 'NOT SENT') notSent.push(`${type} on ${presence.replica}`);
      }
    }
    const evidence = { proxy: vm.proxyName, states };
    const outcomes: Outcome[] = [
      problems.length > 0 ? fail(problems.join('; '), evidence) : pass('every watched xDS type is SYNCED or not yet sent', evidence),
    ];
    if (notSent.length > 0) outcomes.push({ ...fail(`istiod never sent ${notSent.join(', ')}`, evidence), severity: 'LOW' });
    return outcomes;
  },
);

/**
 * Why the sync controls cannot look at the proxy, when they cannot: not connected is SKIP (XDS-01 says it),
 * but an unknown proxy name or a silent replica is ERROR, as for XDS-01.
 */
function notConnected(vm: VmRecord, ctx: AuditContext): Outcome | undefined {
  if (!ctx.mesh.available) return withoutCluster(ctx);
  if (!vm.proxyName) return error('the proxy name is unknown: the VM reported neither a node id nor hostname and ISTIO_NAMESPACE');
  if (vm.proxy.length > 0) return undefined;
  const silent = ctx.mesh.istiods.filter((i) => !i.answered).map((i) => i.name);
  if (silent.length > 0)
    return error(`${vm.proxyName} is on no replica that answered, and ${silent.join(', ')} did not answer`, { proxy: vm.proxyName });
  return skip('the proxy is not connected to istiod (see XDS-01)', { proxy: vm.proxyName });
}

/** XDS-03: the proxy is not newer than its istiod and at most one minor version older (every replica holding it). */
export const xds03 = joinedVmControl(
  {
    id: 'XDS-03',
    severity: 'HIGH',
    title: 'Proxy version supported by istiod',
    remediation:
      "Upgrade the VM sidecar package to the control plane's version (Istio supports a proxy one minor version behind istiod), then `systemctl restart istio`.",
  },
  (vm, snapshot, ctx) => {
    const unconnected = notConnected(vm, ctx);
    if (unconnected) return unconnected;
    const problems: string[] = [];
    const unknown: string[] = [];
    const checked: Array<Record<string, unknown>> = [];
    for (const presence of vm.proxy) {
      const proxyVersion = presence.status.istio_version ?? (snapshot.serverInfo.ok ? snapshot.serverInfo.value.istioVersion : undefined);
      const istiod = ctx.mesh.istiods.find((i) => i.name === presence.replica);
      checked.push({ istiod: presence.replica, proxyVersion: proxyVersion ?? null, istiodVersion: istiod?.version ?? null });
      const p = parseIstioVersion(proxyVersion);
      const c = parseIstioVersion(istiod?.version);
      if (!p) unknown.push(`the proxy did not report its Istio version to ${presence.replica}`);
      else if (!c) unknown.push(`the version of ${presence.replica} is unknown (no image tag on its pod)`);
      else {
        const minorsBehind = (c[0] - p[0]) * 1000 + (c[1] - p[1]);
        if (minorsBehind < 0 || (minorsBehind === 0 && p[2] > c[2]))
          problems.push(`the proxy (${p.join('.')}) is newer than ${presence.replica} (${c.join('.')})`);
        else if (minorsBehind > ctx.thresholds.maxMinorVersionsBehind)
          problems.push(`the proxy (${p.join('.')}) is ${minorsBehind} minor versions behind ${presence.replica} (${c.join('.')})`);
      }
    }
    const evidence = { proxy: vm.proxyName, checked };
    if (problems.length > 0) return fail(problems.join('; '), evidence);
    if (unknown.length > 0) return error(unknown.join('; '), evidence);
    return pass(`the proxy is supported by ${vm.proxy.map((p) => p.replica).join(', ')}`, evidence);
  },
);

/** XDS-05: every proxy in a VM namespace belongs to an audited VM of the inventory. */
export const xds05 = defineControl(
  {
    id: 'XDS-05',
    severity: 'HIGH',
    title: 'No unknown proxy in VM namespaces',
    subject: 'proxy',
    remediation:
      'Find the machine: `istioctl proxy-status <proxy>` and `kubectl get workloadentries -A -o wide`; a machine outside the audited inventory ' +
      'holding a mesh identity must be explained or removed (revoke its token, delete its WorkloadEntry).',
  },
  (ctx, finding) => {
    if (!ctx.mesh.available) return [finding.fleet(withoutCluster(ctx))];
    const vmNamespaces = new Set<string>([
      ...ctx.vms.flatMap((vm) => (vm.namespace ? [vm.namespace] : [])),
      ...ctx.mesh.workloadEntries
        .filter((we) => we.metadata.annotations?.['istio.io/autoRegistrationGroup'])
        .map((we) => we.metadata.namespace),
      ...ctx.mesh.workloadGroups.map((wg) => wg.metadata.namespace),
    ]);
    const known = new Map<string, VmRecord[]>();
    for (const vm of ctx.vms) if (vm.proxyName) appendTo(known, vm.proxyName, vm);
    // VMs that did not answer, by the short host name SSM knows them by: one may be the proxy's machine.
    const silentByHost = new Map<string, string[]>();
    for (const vm of ctx.vms) {
      const host = vm.snapshot?.readable ? undefined : vm.inventory?.ComputerName?.split('.')[0];
      if (host !== undefined) appendTo(silentByHost, host, vm.instanceId);
    }
    const findings = [];
    for (const [proxy, presences] of ctx.mesh.proxies) {
      const dot = proxy.lastIndexOf('.');
      const host = proxy.slice(0, dot);
      const namespace = proxy.slice(dot + 1);
      if (dot < 0 || !vmNamespaces.has(namespace)) continue;
      const evidence = { namespace, istiod: presences.map((p) => p.replica) };
      const owners = known.get(proxy) ?? [];
      const ids = owners.map((vm) => vm.instanceId);
      if (owners.length > 1) {
        findings.push(
          finding(proxy, error(`claimed by ${ids.join(', ')}: which machine holds it cannot be told`, { ...evidence, instances: ids })),
        );
        continue;
      }
      const owner = owners[0];
      // A claim its own VM's state or SSM's address contradicts shows no ownership: the proxy is not proved
      // to be the VM's, nor proved to be a stranger's (a race with a restart reads the same way).
      if (owner && owner.contradictions.length > 0) {
        findings.push(
          finding(
            proxy,
            error(
              `claimed by ${owner.instanceId}, whose own evidence contradicts the claim: ${owner.contradictions.map((c) => c.message).join('; ')}`,
              {
                ...evidence,
                instance: owner.instanceId,
                contradictions: owner.contradictions.map((c) => c.kind),
              },
            ),
          ),
        );
        continue;
      }
      if (owner) {
        findings.push(finding(proxy, pass(`belongs to ${owner.instanceId}`, { ...evidence, instance: owner.instanceId })));
        continue;
      }
      const maybe = silentByHost.get(host) ?? [];
      findings.push(
        finding(
          proxy,
          maybe.length > 0
            ? error(`may be ${maybe.join(', ')}, which did not answer`, evidence)
            : fail(
                `no audited VM accounts for this proxy: a machine outside the inventory holds a mesh identity in ${namespace}`,
                evidence,
              ),
        ),
      );
    }
    return findings;
  },
);
