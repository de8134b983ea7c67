import { describe, expect, it } from 'vitest';
import { buildMeshView } from '../../lib/core/mesh-view.ts';
import { versionSpread } from '../../lib/core/version-spread.ts';
import type { ClusterEvidence } from '../../lib/core/evidence-bundle.ts';

const pod = (name: string, image: string) => ({
  metadata: { name, namespace: 'istio-system' },
  spec: { containers: [{ name: 'discovery', image }] },
});
const status = (proxy: string, istio_version?: string) => ({ proxy, ...(istio_version === undefined ? {} : { istio_version }) });

/** A revision canary as istiod reports it: two replicas of 1.24.6, one of 1.25.1, proxies on both. */
function canary(extra: Record<string, unknown[]> = {}): ClusterEvidence {
  return {
    istiodPods: {
      items: [
        pod('istiod-1-24-a', 'docker.io/istio/pilot:1.24.6'),
        pod('istiod-1-24-b', 'docker.io/istio/pilot:1.24.6-distroless'),
        pod('istiod-1-25-a', 'docker.io/istio/pilot:1.25.1'),
      ],
    },
    syncz: {
      'istiod-1-24-a': [status('vm-1.ledger', '1.24.6'), status('vm-2.ledger', '1.24.6')],
      // A proxy listed by two replicas counts once.
      'istiod-1-24-b': [status('vm-2.ledger', '1.24.6'), status('vm-3.ledger')],
      'istiod-1-25-a': [status('vm-4.ledger', '1.25.1'), ...(extra['istiod-1-25-a'] ?? [])],
    },
    rootCa: {},
  } as unknown as ClusterEvidence;
}

describe('versionSpread', () => {
  it('counts the replicas and the proxies of each Istio version, in version order, unknown last', () => {
    expect(versionSpread(buildMeshView(canary()))).toEqual({
      istiod: { '1.24.6': 1, '1.24.6-distroless': 1, '1.25.1': 1 },
      proxies: { '1.24.6': 2, '1.25.1': 1, unknown: 1 },
    });
  });

  it('keeps a proxy-claimed version only when it looks like one, and a bounded number of them', () => {
    const claims = [
      status('vm-x.ledger', `1.24.6${'9'.repeat(100)}`),
      status('vm-y.ledger', '<script>'),
      ...Array.from({ length: 30 }, (_, i) => status(`vm-${i}.batch`, `1.${i}.0`)),
    ];
    const spread = versionSpread(buildMeshView(canary({ 'istiod-1-25-a': claims })))!;
    expect(Object.keys(spread.proxies)).toHaveLength(21);
    expect(spread.proxies.unrecognized).toBe(2);
    expect(spread.proxies.other).toBeGreaterThan(0);
    expect(Object.values(spread.proxies).reduce((a, b) => a + b, 0)).toBe(4 + claims.length);
  });

  it('says nothing when no cluster was read', () => {
    expect(versionSpread(buildMeshView(undefined, 'no cluster configured'))).toBeUndefined();
  });
});
