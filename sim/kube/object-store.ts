import { z } from 'zod';
import { notFound, statusObject, type ApiReply } from './api-replies.ts';
import { ISTIO_VERSION, type RequestAttributes } from './routing.ts';

/** The objects the simulated API server holds, and how it lists (label selectors, limit/continue) and gets them. */

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export function asObjects(items: readonly unknown[] | undefined): KubeObject[] {
  return (items ?? []).filter((i): i is KubeObject => typeof i === 'object' && i !== null);
}

export function objectKey(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** Equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`), the subset the audit and kubectl use. */
export function labelSelectorMatcher(selector: string | null): ((o: KubeObject) => boolean) | string {
  if (!selector) return () => true;
  const terms: Array<(labels: Record<string, string>) => boolean> = [];
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    const m = /^(!?)([A-Za-z0-9./_-]+)(?:\s*(==|=|!=)\s*([A-Za-z0-9._-]*))?$/.exec(term);
    if (!m) return `unable to parse requirement: ${JSON.stringify(term)}`;
    const [, not, key, op, value] = m as unknown as [string, string, string, string | undefined, string | undefined];
    if (op === undefined) terms.push(not ? (l) => !(key in l) : (l) => key in l);
    else if (not) return `unable to parse requirement: ${JSON.stringify(term)}`;
    else if (op === '!=') terms.push((l) => l[key] !== value);
    else terms.push((l) => l[key] === value);
  }
  return (o) => terms.every((t) => t(o.metadata?.labels ?? {}));
}

export const ContinueTokenSchema = z.object({ v: z.literal('meta.k8s.io/v1'), rv: z.number().int(), start: z.string() });

/** A resource the server holds, with the API group and kind it is served under. */
export interface KubeCollection {
  group: string;
  kind: string;
  items: KubeObject[];
}

/** A list request on a collection, paged with limit/continue at a fixed resourceVersion. */
export function listObjects(
  collection: KubeCollection,
  a: RequestAttributes,
  query: URLSearchParams,
  listResourceVersion: number,
): ApiReply {
  const matcher = labelSelectorMatcher(query.get('labelSelector'));
  if (typeof matcher === 'string') return statusObject(400, 'BadRequest', matcher);
  if (query.get('fieldSelector')) return statusObject(400, 'BadRequest', 'field selectors are not supported here');
  let items = collection.items.filter((o) => (a.namespace === undefined || o.metadata?.namespace === a.namespace) && matcher(o));
  const limit = Number(query.get('limit') ?? '0');
  if (!Number.isInteger(limit) || limit < 0)
    return statusObject(400, 'BadRequest', `limit must be a non-negative integer, got ${query.get('limit')}`);
  const continueToken = query.get('continue');
  if (continueToken) {
    let parsed: z.infer<typeof ContinueTokenSchema>;
    try {
      parsed = ContinueTokenSchema.parse(JSON.parse(Buffer.from(continueToken, 'base64url').toString('utf8')));
    } catch {
      return statusObject(400, 'BadRequest', 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    }
    items = items.filter((o) => objectKey(o) > parsed.start);
  }
  const page = limit > 0 ? items.slice(0, limit) : items;
  const remaining = items.length - page.length;
  const metadata: Record<string, unknown> = { resourceVersion: String(listResourceVersion) };
  if (remaining > 0) {
    const start = objectKey(page[page.length - 1]!);
    metadata.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: listResourceVersion, start })).toString('base64url');
    metadata.remainingItemCount = remaining;
  }
  const core = collection.group === '';
  return {
    status: 200,
    body: {
      // Core Lists carry kind/apiVersion once at the top; custom resource Lists also on every item.
      kind: `${collection.kind}List`,
      apiVersion: core ? 'v1' : `${collection.group}/${ISTIO_VERSION}`,
      metadata,
      items: page.map((o) =>
        core ? withoutTypeMeta(o) : { apiVersion: `${collection.group}/${ISTIO_VERSION}`, kind: collection.kind, ...o },
      ),
    },
  };
}

export function getObject(collection: KubeCollection, a: RequestAttributes): ApiReply {
  const found = collection.items.find((o) => o.metadata?.name === a.name && o.metadata?.namespace === a.namespace);
  if (!found) return notFound(a);
  return {
    status: 200,
    body: { apiVersion: collection.group ? `${collection.group}/${ISTIO_VERSION}` : 'v1', kind: collection.kind, ...found },
  };
}

function withoutTypeMeta(o: KubeObject): KubeObject {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = o;
  return rest;
}
