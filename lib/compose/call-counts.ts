/**
 * Kubernetes calls per verb and resource, from the reader's call list (`GET /api/v1/…`, `portforward …`),
 * keyed like the AWS ones: `Kubernetes.list workloadentries`, `Kubernetes.create pods/portforward`.
 */
export function kubeCallCounts(calls: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) {
    const key = `Kubernetes.${kubeOperation(call)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function kubeOperation(call: string): string {
  // A port-forward is authorized as `create` on pods/portforward.
  if (call.startsWith('portforward ')) return 'create pods/portforward';
  const path = /^GET (\/[^?\s]*)/.exec(call)?.[1];
  if (path === undefined) return 'other';
  const parts = path.split('/').filter(Boolean);
  let rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : [];
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, name] = rest;
  if (resource === undefined) return 'other';
  return `${name === undefined ? 'list' : 'get'} ${resource}`;
}
