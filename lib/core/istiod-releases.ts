import { z } from 'zod';
import { IstiodPodSchema, istiodVersion } from './mesh-view.ts';

const PodListSchema = z.object({ items: z.array(z.unknown()).catch([]) });

/**
 * The Istio release of each istiod pod of an evidence bundle's `cluster/istiod-pods.json` (a PodList), by pod
 * name, from the image tag of its `discovery` container. Pods that do not parse or name no release are left
 * out. Never throws.
 */
export function istiodReleasesOf(podList: unknown): Map<string, string> {
  const releases = new Map<string, string>();
  for (const item of PodListSchema.safeParse(podList).data?.items ?? []) {
    const pod = IstiodPodSchema.safeParse(item);
    const release = pod.success ? istiodVersion(pod.data) : undefined;
    if (pod.success && release) releases.set(pod.data.metadata.name, release);
  }
  return releases;
}
