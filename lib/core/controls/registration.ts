import { joinKey, type VmRecord } from '../join.ts';
import type { WorkloadEntry } from '../mesh-view.ts';
import { defineControl, error, excerpt, fail, joinedVmControl, pass, skip, withoutCluster } from './control.ts';
import { appendTo } from '../multimap.ts';
import { describeWindow, livenessWindow } from './liveness-window.ts';

const AUTO_REGISTRATION_GROUP = 'istio.io/autoRegistrationGroup';

/** The name istiod gives an auto-registered entry: `<group>-<ip with : as ->[-<network>]`. */
export function autoRegisteredName(group: string, ip: string, network: string): string {
  return `${group}-${ip.replaceAll(':', '-')}${network ? `-${network}` : ''}`;
}

/** REG-01: a WorkloadEntry exists for the VM (namespace, address and network). */
export const reg01 = joinedVmControl(
  {
    id: 'REG-01',
    severity: 'HIGH',
    title: 'WorkloadEntry registered',
    remediation:
      'Run `kubectl get workloadentries -n <namespace> -o wide`; with auto-registration check that the WorkloadGroup named by ' +
      'ISTIO_META_AUTO_REGISTER_GROUP exists and that the proxy is connected (`istioctl proxy-status`).',
  },
  (vm, _snapshot, ctx) => {
    if (!ctx.mesh.available || ctx.mesh.missingParts.includes('cluster/workloadentries.json')) {
      return withoutCluster(ctx, 'the bundle holds no WorkloadEntries (cluster/workloadentries.json is missing)');
    }
    if (!vm.namespace || !vm.proxyIp) return error('the VM reported no ISTIO_NAMESPACE or no address to look its WorkloadEntry up by');
    const evidence = { namespace: vm.namespace, address: vm.proxyIp, network: vm.network };
    if (vm.workloadEntries.length === 0) {
      const unreadable = ctx.mesh.invalid.filter(
        (o) => o.kind === 'WorkloadEntry' && (o.ref.startsWith(`${vm.namespace}/`) || o.ref.startsWith('items[')),
      );
      if (unreadable.length > 0)
        return error(`no readable WorkloadEntry matches, and ${unreadable.map((o) => o.ref).join(', ')} could not be read`, evidence);
      return fail(
        `no WorkloadEntry in ${vm.namespace} has address ${vm.proxyIp}${vm.network ? ` on network ${vm.network}` : ''}`,
        evidence,
      );
    }
    const names = vm.workloadEntries.map((we) => we.metadata.name);
    if (vm.group) {
      const expected = autoRegisteredName(vm.group, vm.proxyIp, vm.network);
      if (!names.includes(expected)) {
        return fail(`the VM auto-registers into ${vm.group} but no entry is named ${expected} (found ${names.join(', ')})`, {
          ...evidence,
          workloadEntries: names,
        });
      }
    }
    return pass(`registered as ${vm.namespace}/${names.join(', ')}`, { ...evidence, workloadEntries: names });
  },
);

/** REG-02: every auto-registered WorkloadEntry belongs to a VM of the inventory that answered. */
export const reg02 = defineControl(
  {
    id: 'REG-02',
    severity: 'HIGH',
    title: 'No orphan WorkloadEntry',
    subject: 'workloadentry',
    remediation:
      'Confirm the machine is gone (`aws ec2 describe-instances`, Systems Manager Fleet Manager), then ' +
      '`kubectl delete workloadentry -n <namespace> <name>`; a live istiod connection recreates a valid entry.',
  },
  (ctx, finding) => {
    if (!ctx.mesh.available || ctx.mesh.missingParts.includes('cluster/workloadentries.json')) {
      return [finding.fleet(withoutCluster(ctx, 'the bundle holds no WorkloadEntries (cluster/workloadentries.json is missing)'))];
    }
    const invalid = ctx.mesh.invalid
      .filter((o) => o.kind === 'WorkloadEntry')
      .map((o) => finding(o.ref, error(`the WorkloadEntry could not be read: ${o.reason}`)));
    const fleet = indexFleet(ctx.vms);
    return [
      ...ctx.mesh.workloadEntries.map((we) => finding(`${we.metadata.namespace}/${we.metadata.name}`, decideOwner(we, fleet))),
      ...invalid,
    ];
  },
);

/** The VMs that answered, by the (namespace, address, network) they register with; those that did not, by SSM's address. */
interface FleetIndex {
  answered: Map<string, VmRecord[]>;
  silentByAddress: Map<string, VmRecord[]>;
}

function indexFleet(vms: VmRecord[]): FleetIndex {
  const answered = new Map<string, VmRecord[]>();
  const silentByAddress = new Map<string, VmRecord[]>();
  for (const vm of vms) {
    if (vm.snapshot?.readable) {
      if (vm.namespace && vm.proxyIp) appendTo(answered, joinKey(vm.namespace, vm.proxyIp, vm.network), vm);
    } else if (vm.inventory?.IPAddress) appendTo(silentByAddress, vm.inventory.IPAddress, vm);
  }
  return { answered, silentByAddress };
}

function decideOwner(we: WorkloadEntry, fleet: FleetIndex): ReturnType<typeof pass> {
  const group = we.metadata.annotations?.[AUTO_REGISTRATION_GROUP];
  const evidence = { address: we.spec.address, network: we.spec.network ?? '', group: group ?? null };
  if (!group) return skip('not auto-registered: a hand-made entry may describe a machine outside the inventory', evidence);
  const owners = fleet.answered.get(joinKey(we.metadata.namespace, we.spec.address, we.spec.network ?? '')) ?? [];
  if (owners.length > 1)
    return error(`claimed by ${owners.map((vm) => vm.instanceId).join(', ')}: which machine it belongs to cannot be told`, {
      ...evidence,
      instances: owners.map((vm) => vm.instanceId),
    });
  const owner = owners[0];
  if (owner && owner.contradictions.length > 0) {
    return error(
      `claimed by ${owner.instanceId}, whose own evidence contradicts the claim: ${owner.contradictions.map((c) => c.message).join('; ')}`,
      { ...evidence, instances: [owner.instanceId] },
    );
  }
  if (owner) return pass(`belongs to ${owner.instanceId}`, { ...evidence, instances: [owner.instanceId] });
  const silent = fleet.silentByAddress.get(we.spec.address) ?? [];
  if (silent.length > 0) {
    return error(
      `its address is that of ${silent.map((vm) => vm.instanceId).join(', ')}, which did not answer: ownership cannot be confirmed`,
      {
        ...evidence,
        instances: silent.map((vm) => vm.instanceId),
      },
    );
  }
  return fail(
    `orphan: no VM of the inventory has address ${we.spec.address}${we.spec.network ? ` on network ${we.spec.network}` : ''}`,
    evidence,
  );
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** REG-03: an auto-registered entry has a recent connectedAt, no disconnectedAt, and a running istiod as its controller. */
export const reg03 = defineControl(
  {
    id: 'REG-03',
    severity: 'MEDIUM',
    title: 'WorkloadEntry live',
    subject: 'workloadentry',
    remediation:
      'An entry whose connection istiod no longer tracks has leaked: check the VM (`istioctl proxy-status`) and delete a stale entry with ' +
      '`kubectl delete workloadentry -n <namespace> <name>`; the live connection recreates it.',
  },
  (ctx, finding) => {
    if (!ctx.mesh.available || ctx.mesh.missingParts.includes('cluster/workloadentries.json')) {
      return [finding.fleet(withoutCluster(ctx, 'the bundle holds no WorkloadEntries (cluster/workloadentries.json is missing)'))];
    }
    return ctx.mesh.workloadEntries.map((we) => {
      const a = we.metadata.annotations ?? {};
      const id = `${we.metadata.namespace}/${we.metadata.name}`;
      if (!a[AUTO_REGISTRATION_GROUP]) return finding(id, skip('not auto-registered: istiod does not track its connection'));
      const connectedAt = a['istio.io/connectedAt'];
      const disconnectedAt = a['istio.io/disconnectedAt'];
      const controller = a['istio.io/workloadController'];
      const window = livenessWindow(controller, ctx.mesh, ctx.thresholds.maxConnectedAgeMinutes);
      const evidence = {
        connectedAt: connectedAt ?? null,
        disconnectedAt: disconnectedAt ?? null,
        workloadController: controller ?? null,
        maxConnectionAge: window.maxConnectionAge,
        livenessWindowMinutes: window.ms === undefined ? null : window.ms / 60_000,
        livenessWindow: window.source,
      };
      for (const [name, value] of [
        ['connectedAt', connectedAt],
        ['disconnectedAt', disconnectedAt],
      ] as const) {
        if (value !== undefined && !RFC3339.test(value))
          return finding(id, error(`istio.io/${name} is not an RFC 3339 time: ${JSON.stringify(value.slice(0, 40))}`, evidence));
      }
      const problems: string[] = [];
      if (disconnectedAt) problems.push(`disconnected at ${disconnectedAt} and not cleaned up`);
      if (!connectedAt) problems.push('it has no istio.io/connectedAt');
      else if (window.ms !== undefined) {
        const ageMs = ctx.now.getTime() - Date.parse(connectedAt);
        if (ageMs > window.ms)
          problems.push(
            `connectedAt is ${Math.floor(ageMs / 60_000)} min old, beyond the liveness window of ${describeWindow(window.ms)} (${window.source}): leaked`,
          );
      }
      const podsKnown = !ctx.mesh.missingParts.includes('cluster/istiod-pods.json');
      const running = ctx.mesh.istiods.filter((i) => i.phase === 'Running').map((i) => i.name);
      if (!controller) problems.push('it names no istio.io/workloadController');
      else if (podsKnown && !running.includes(controller)) problems.push(`its controller ${controller} is not a running istiod pod`);
      if (problems.length > 0) return finding(id, fail(problems.join('; '), evidence));
      if (!podsKnown)
        return finding(
          id,
          error(`whether ${controller} is a running istiod pod is unknown: cluster/istiod-pods.json is missing`, evidence),
        );
      const within =
        window.ms === undefined
          ? `no liveness window applies (${window.source})`
          : `within the liveness window of ${describeWindow(window.ms)} (${window.source})`;
      return finding(id, pass(`connected ${connectedAt} through ${controller}, ${within}`, evidence));
    });
  },
);

/** REG-04: no two WorkloadEntries share the same (address, network). */
export const reg04 = defineControl(
  {
    id: 'REG-04',
    severity: 'HIGH',
    title: 'No duplicate WorkloadEntry',
    subject: 'workloadentry',
    remediation:
      'Two entries for one address split traffic between them: keep the auto-registered one and delete the other (`kubectl delete workloadentry`).',
  },
  (ctx, finding) => {
    if (!ctx.mesh.available || ctx.mesh.missingParts.includes('cluster/workloadentries.json')) {
      return [finding.fleet(withoutCluster(ctx, 'the bundle holds no WorkloadEntries (cluster/workloadentries.json is missing)'))];
    }
    const byKey = new Map<string, string[]>();
    for (const we of ctx.mesh.workloadEntries) {
      const key = `${we.spec.address}|${we.spec.network ?? ''}`;
      appendTo(byKey, key, `${we.metadata.namespace}/${we.metadata.name}`);
    }
    return ctx.mesh.workloadEntries.map((we) => {
      const id = `${we.metadata.namespace}/${we.metadata.name}`;
      const same = byKey.get(`${we.spec.address}|${we.spec.network ?? ''}`)!;
      const evidence = { address: we.spec.address, network: we.spec.network ?? '' };
      if (same.length === 1) return finding(id, pass(`the only entry for ${we.spec.address}`, evidence));
      return finding(
        id,
        fail(
          `${we.spec.address}${we.spec.network ? ` on ${we.spec.network}` : ''} is also the address of ${same.filter((s) => s !== id).join(', ')}`,
          { ...evidence, entries: same },
        ),
      );
    });
  },
);

/** REG-05: the VM's auto-registration group exists in its namespace and its entry carries the VM's service account. */
export const reg05 = joinedVmControl(
  {
    id: 'REG-05',
    severity: 'HIGH',
    title: 'Auto-registration group and identity',
    remediation:
      'Create the WorkloadGroup named by ISTIO_META_AUTO_REGISTER_GROUP in ISTIO_NAMESPACE (`kubectl get workloadgroups -n <namespace>`), ' +
      "or fix cluster.env; the group's template.serviceAccount must be the VM's SERVICE_ACCOUNT.",
  },
  (vm, snapshot, ctx) => {
    if (!ctx.mesh.available || ctx.mesh.missingParts.includes('cluster/workloadgroups.json'))
      return withoutCluster(ctx, 'the bundle holds no WorkloadGroups (cluster/workloadgroups.json is missing)');
    if (!snapshot.clusterEnv.ok) return error(snapshot.clusterEnv.reason);
    if (!vm.group) return skip('the VM does not auto-register (no ISTIO_META_AUTO_REGISTER_GROUP)');
    if (!vm.namespace) return error('the VM auto-registers but names no ISTIO_NAMESPACE');
    const serviceAccount = snapshot.clusterEnv.value.get('SERVICE_ACCOUNT') || undefined;
    const evidence = { group: vm.group, namespace: vm.namespace, serviceAccount: serviceAccount ?? null };
    if (!ctx.mesh.workloadGroups.some((wg) => wg.metadata.namespace === vm.namespace && wg.metadata.name === vm.group)) {
      return fail(`WorkloadGroup ${vm.namespace}/${vm.group} does not exist: istiod refuses to register the VM`, evidence);
    }
    if (vm.workloadEntries.length === 0)
      return pass(`WorkloadGroup ${vm.namespace}/${vm.group} exists (the VM has no entry to compare: see REG-01)`, evidence);
    if (!serviceAccount) return error('cluster.env sets no SERVICE_ACCOUNT to compare the entry with', evidence);
    const wrong = vm.workloadEntries.find((we) => we.spec.serviceAccount !== serviceAccount);
    if (wrong)
      return fail(
        `the entry runs as ${wrong.spec.serviceAccount ?? 'the default service account'}, but the VM's SERVICE_ACCOUNT is ${serviceAccount}`,
        { ...evidence, entryServiceAccount: wrong.spec.serviceAccount ?? null },
      );
    return pass(`WorkloadGroup ${vm.namespace}/${vm.group} exists and the entry runs as ${serviceAccount}`, evidence);
  },
);

/** REG-06: where health checks are on, every entry's Healthy condition is True and agrees with the VM's readiness. */
export const reg06 = joinedVmControl(
  {
    id: 'REG-06',
    severity: 'MEDIUM',
    title: 'WorkloadEntry health agrees with the VM',
    remediation:
      'Read the probe result: `kubectl get workloadentry -n <namespace> <name> -o yaml` (status.conditions); on the VM check the application port the WorkloadGroup probes.',
  },
  (vm, snapshot) => {
    const checked = vm.workloadEntries.filter((we) => we.metadata.annotations?.['proxy.istio.io/health-checks-enabled'] === 'true');
    if (checked.length === 0)
      return skip(vm.workloadEntries.length ? 'health checks are not enabled for this entry' : 'the VM has no WorkloadEntry (see REG-01)');
    if (!snapshot.readiness.ok) return error(snapshot.readiness.reason);
    const ready = snapshot.readiness.value.outcome === 'ready';
    const entries = checked.map((entry) => {
      const healthy = entry.status?.conditions?.find((c) => c.type === 'Healthy');
      return {
        entry: `${entry.metadata.namespace}/${entry.metadata.name}`,
        healthy: healthy?.status ?? null,
        message: healthy?.message ?? null,
      };
    });
    const evidence = { entries, vmReady: ready };
    const problems = entries.flatMap((e) => {
      if (e.healthy === null) return [`${e.entry} has no Healthy condition though health checks are on`];
      if (e.healthy !== 'True') return [`${e.entry} is not Healthy: ${excerpt(e.message ?? e.healthy, 200)}`];
      if (!ready) return [`${e.entry} is Healthy, but the VM's own readiness probe fails`];
      return [];
    });
    return problems.length === 0 ? pass('the entry is Healthy and the VM is ready', evidence) : fail(problems.join('; '), evidence);
  },
);
