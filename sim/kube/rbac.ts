import { loadAll } from 'js-yaml';
import { z } from 'zod';
import type { RequestAttributes } from './routing.ts';

/** RBAC as kube-apiserver enforces it, read from the project's own Roles and bindings. */

const PolicyRuleSchema = z.looseObject({
  apiGroups: z.array(z.string()).default([]),
  resources: z.array(z.string()).default([]),
  verbs: z.array(z.string()),
  resourceNames: z.array(z.string()).optional(),
});
type PolicyRule = z.infer<typeof PolicyRuleSchema>;

const RoleSchema = z.looseObject({
  kind: z.enum(['Role', 'ClusterRole']),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  rules: z.array(PolicyRuleSchema).nullish(),
});

const BindingSchema = z.looseObject({
  kind: z.enum(['RoleBinding', 'ClusterRoleBinding']),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  roleRef: z.looseObject({ kind: z.enum(['Role', 'ClusterRole']), name: z.string() }),
  subjects: z.array(z.looseObject({ kind: z.string(), name: z.string(), namespace: z.string().optional() })).nullish(),
});

export interface Grant {
  /** undefined: cluster-wide (ClusterRoleBinding). */
  namespace: string | undefined;
  rule: PolicyRule;
}

/** What the ServiceAccount may do, from the Roles and bindings of an RBAC manifest. */
export function grantsFor(rbacYaml: string, account: { namespace: string; name: string }): Grant[] {
  const docs = loadAll(rbacYaml).filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null);
  const roles = docs.flatMap((d) => {
    const parsed = RoleSchema.safeParse(d);
    return parsed.success ? [parsed.data] : [];
  });
  const grants: Grant[] = [];
  for (const doc of docs) {
    if (doc.kind !== 'RoleBinding' && doc.kind !== 'ClusterRoleBinding') continue;
    const binding = BindingSchema.parse(doc);
    const bindingNs = binding.kind === 'RoleBinding' ? (binding.metadata.namespace ?? 'default') : undefined;
    const bound = (binding.subjects ?? []).some(
      (s) => s.kind === 'ServiceAccount' && s.name === account.name && (s.namespace ?? bindingNs) === account.namespace,
    );
    if (!bound) continue;
    const role = roles.find(
      (r) =>
        r.kind === binding.roleRef.kind &&
        r.metadata.name === binding.roleRef.name &&
        (r.kind === 'ClusterRole' || (r.metadata.namespace ?? 'default') === bindingNs),
    );
    for (const rule of role?.rules ?? []) grants.push({ namespace: bindingNs, rule });
  }
  return grants;
}

export function allows(grants: readonly Grant[], a: RequestAttributes): boolean {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return grants.some(
    ({ namespace, rule }) =>
      (namespace === undefined || namespace === a.namespace) &&
      (rule.apiGroups.includes('*') || rule.apiGroups.includes(a.group)) &&
      (rule.resources.includes('*') || rule.resources.includes(resource)) &&
      (rule.verbs.includes('*') || rule.verbs.includes(a.verb)) &&
      (!rule.resourceNames?.length || (a.name !== undefined && rule.resourceNames.includes(a.name))),
  );
}
