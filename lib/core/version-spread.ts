import type { MeshView } from './mesh-view.ts';

/** How many istiod replicas and how many proxies run each Istio version ("unknown" when not said). */
export interface VersionSpread {
  istiod: Record<string, number>;
  proxies: Record<string, number>;
}

const UNKNOWN = 'unknown';
/** A proxy's version is what its node metadata claims (the VM writes it): only a version-like text is kept, and a bounded number of them. */
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;
const UNRECOGNIZED = 'unrecognized';
const OTHER = 'other';
const MAX_VERSIONS = 20;

/**
 * The Istio versions the mesh runs, as the cluster says: each istiod replica's from its image tag, each
 * proxy's from the `istio_version` istiod reports for it (the first replica that lists it). During a
 * revision canary two versions stand side by side, and a reader needs to see both before judging XDS
 * findings. Undefined when the cluster was not read.
 */
export function versionSpread(mesh: MeshView): VersionSpread | undefined {
  if (!mesh.available) return undefined;
  const istiod: Record<string, number> = {};
  for (const replica of mesh.istiods) count(istiod, replica.version);
  const proxies: Record<string, number> = {};
  for (const presences of mesh.proxies.values()) count(proxies, presences[0]?.status.istio_version);
  return { istiod: sorted(istiod), proxies: sorted(proxies) };
}

function count(into: Record<string, number>, version: string | undefined): void {
  let key = version === undefined || version.trim() === '' ? UNKNOWN : VERSION.test(version) ? version : UNRECOGNIZED;
  if (!Object.hasOwn(into, key) && Object.keys(into).length >= MAX_VERSIONS) key = OTHER;
  into[key] = (into[key] ?? 0) + 1;
}

/** Keys in version order (numerically, "unknown" last), so the same mesh always reads the same. */
function sorted(counts: Record<string, number>): Record<string, number> {
  const parts = (v: string): number[] => v.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : Number.MAX_SAFE_INTEGER));
  const order = (a: string, b: string): number => {
    const rank = (v: string): number => [UNKNOWN, UNRECOGNIZED, OTHER].indexOf(v);
    if (rank(a) >= 0 || rank(b) >= 0) return rank(a) - rank(b) || (rank(a) < 0 ? -1 : rank(b) < 0 ? 1 : 0);
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return a < b ? -1 : a > b ? 1 : 0;
  };
  return Object.fromEntries(
    Object.keys(counts)
      .sort(order)
      .map((k) => [k, counts[k]!]),
  );
}
