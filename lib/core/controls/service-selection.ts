import type { MeshView, WorkloadEntry } from '../mesh-view.ts';
import { selects, type Service, type ServiceEntry } from '../mesh-services.ts';
import { appendTo } from '../multimap.ts';
import { defineControl, error, fail, pass, withoutCluster, type AuditContext, type Outcome } from './control.ts';

const PARTS = ['cluster/services.json', 'cluster/serviceentries.json'] as const;

/**
 * REG-08: each WorkloadEntry is selected by a Service of its namespace (a non-empty selector within the entry's
 * labels) or by a ServiceEntry of its namespace whose `workloadSelector.labels` are; otherwise no traffic reaches
 * it (istio/istio#29151). istiod matches both against the entry's `spec.labels`. A ServiceEntry selects
 * workloads of its own namespace only, whatever its `exportTo` says: one in another namespace is not looked at.
 */
export const reg08 = defineControl(
  {
    id: 'REG-08',
    severity: 'HIGH',
    title: 'WorkloadEntry selected by a Service',
    subject: 'workloadentry',
    remediation:
      "Compare the entry's labels (`kubectl get workloadentry -n <namespace> <name> -o jsonpath='{.spec.labels}'`) with the selectors of " +
      "the namespace's Services and ServiceEntries (`kubectl get svc,serviceentries -n <namespace> -o wide`); give the WorkloadGroup the labels " +
      'its Service selects, or add a Service or a ServiceEntry with a workloadSelector for it.',
  },
  (ctx, finding) => {
    if (!ctx.mesh.available || ctx.mesh.missingParts.includes('cluster/workloadentries.json'))
      return [finding.fleet(withoutCluster(ctx, 'the bundle holds no WorkloadEntries (cluster/workloadentries.json is missing)'))];
    const missing = PARTS.filter((part) => ctx.mesh.missingParts.includes(part));
    const byNamespace = indexByNamespace(ctx.mesh);
    return [
      ...ctx.mesh.workloadEntries.map((entry) =>
        finding(
          `${entry.metadata.namespace}/${entry.metadata.name}`,
          missing.length > 0
            ? error(`the bundle holds no ${missing.join(' nor ')}: which Services select the entry cannot be told`)
            : decideSelection(entry, byNamespace, ctx),
        ),
      ),
      ...ctx.mesh.invalid
        .filter((o) => o.kind === 'WorkloadEntry')
        .map((o) => finding(o.ref, error(`the WorkloadEntry could not be read: ${o.reason}`))),
    ];
  },
);

interface NamespaceIndex {
  services: Map<string, Service[]>;
  serviceEntries: Map<string, ServiceEntry[]>;
}

/** The Services and ServiceEntries by namespace, so that each entry is compared with its namespace's alone. */
function indexByNamespace(mesh: MeshView): NamespaceIndex {
  const index: NamespaceIndex = { services: new Map(), serviceEntries: new Map() };
  for (const s of mesh.services) appendTo(index.services, s.metadata.namespace, s);
  for (const se of mesh.serviceEntries) appendTo(index.serviceEntries, se.metadata.namespace, se);
  return index;
}

function decideSelection(entry: WorkloadEntry, index: NamespaceIndex, ctx: AuditContext): Outcome {
  const namespace = entry.metadata.namespace;
  const labels = entry.spec.labels ?? {};
  const services = (index.services.get(namespace) ?? []).filter((s) => selects(s.spec?.selector, labels));
  const serviceEntries = (index.serviceEntries.get(namespace) ?? []).filter((se) => selects(se.spec.workloadSelector?.labels, labels));
  const evidence = {
    labels,
    services: services.map((s) => s.metadata.name),
    serviceEntries: serviceEntries.map((se) => se.metadata.name),
  };
  if (services.length > 0 || serviceEntries.length > 0) {
    const by = [...services.map((s) => `Service ${s.metadata.name}`), ...serviceEntries.map((se) => `ServiceEntry ${se.metadata.name}`)];
    return pass(`selected by ${by.join(', ')}`, evidence);
  }
  // Nothing selects it as far as the evidence goes: that is a finding only if the evidence was whole.
  const unread = ctx.mesh.problems.filter((p) => (p.part === 'services' || p.part === 'serviceentries') && p.target === namespace);
  if (unread.length > 0)
    return error(`the ${unread.map((p) => p.part).join(' and ')} of ${namespace} could not be read: ${unread[0]!.message}`, evidence);
  const invalid = ctx.mesh.invalid.filter(
    (o) => (o.kind === 'Service' || o.kind === 'ServiceEntry') && (o.ref.startsWith(`${namespace}/`) || o.ref.startsWith('items[')),
  );
  if (invalid.length > 0)
    return error(
      `no readable Service or ServiceEntry selects it, and ${invalid.map((o) => `${o.kind} ${o.ref}`).join(', ')} could not be read`,
      evidence,
    );
  const shown = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return fail(`no Service or ServiceEntry of ${namespace} selects its labels (${shown || 'none'}): the mesh sends it no traffic`, evidence);
}
