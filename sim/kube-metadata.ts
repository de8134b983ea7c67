import type { SimFleet } from './fleet.ts';
import { hashString } from './random.ts';

/** The namespace of the simulated control plane: istiod, its Services and the east-west gateway. */
export const ISTIO_SYSTEM = 'istio-system';

/** RFC 3339 with second precision, as the API server prints metav1.Time. */
export function kubeTime(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** A version-4-shaped metadata.uid drawn from the seed and the object's key: the same object keeps its uid from run to run. */
export function kubeUid(fleet: SimFleet, key: string): string {
  const h = [0, 1, 2, 3].map((i) => hashString(`${fleet.seed}:${key}:${i}`).toString(16).padStart(8, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A metadata.resourceVersion drawn from the seed and the object's key. */
export function resourceVersion(fleet: SimFleet, key: string): string {
  return String(100_000 + (hashString(`${fleet.seed}:rv:${key}`) % 900_000));
}
