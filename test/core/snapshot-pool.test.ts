import { describe, expect, it } from 'vitest';
import { analyzeBundle } from '../../lib/core/analyze.ts';
import { analyzeCollected } from '../../lib/core/analyze.ts';
import { collectVm, type CollectedVm } from '../../lib/core/collected-vm.ts';
import { SnapshotPool } from '../../lib/core/snapshot-pool.ts';
import { simClusterEvidence, simInstanceInformation, simInvocation } from '../../sim/cluster.ts';
import { buildSimFleetAsync } from '../../sim/fleet.ts';

// The asynchronous builder gives the VMs their certificates, as the benchmark's fleets have.
const fleet = await buildSimFleetAsync({ vms: 40, seed: 7, now: new Date('2026-11-26T06:00:00.000Z') });
const invocations = fleet.vms.map((vm) => simInvocation(fleet, vm));

function collectAll(pool: SnapshotPool | undefined): Map<string, CollectedVm> {
  return new Map(invocations.map((invocation) => [invocation.InstanceId, collectVm(invocation, pool)]));
}

describe('SnapshotPool', () => {
  it('gives every VM the snapshot it would have without the pool', () => {
    const pooled = collectAll(new SnapshotPool());
    const alone = collectAll(undefined);
    for (const [id, vm] of alone) expect(pooled.get(id)).toEqual(vm);
  });

  it('holds a capture rule and a CA certificate that VMs share once', () => {
    const snapshots = [...collectAll(new SnapshotPool()).values()].flatMap((vm) => (vm.snapshot?.readable ? [vm.snapshot] : []));
    const rulesOf = (i: number) => snapshots[i]!.iptables.flatMap((b) => (b.ruleset.ok ? b.ruleset.value.rules : []));
    const [first, second] = [rulesOf(0), rulesOf(1)];
    const shared = first.filter((rule) => second.some((other) => other.text === rule.text && other.table === rule.table));
    expect(shared.length).toBeGreaterThan(0);
    for (const rule of shared) expect(second).toContain(rule);
    const roots = snapshots.flatMap((s) => (s.rootCert.ok ? [s.rootCert.value[0]!] : []));
    expect(roots.length).toBeGreaterThan(1);
    expect(new Set(roots.map((c) => c.sha256Fingerprint)).size).toBeLessThan(roots.length);
    const byFingerprint = new Map(roots.map((c) => [c.sha256Fingerprint, c]));
    for (const root of roots) expect(root).toBe(byFingerprint.get(root.sha256Fingerprint));
  });

  it('leaves the report of a fleet unchanged', () => {
    const bundle = {
      manifest: {
        bundleVersion: 1 as const,
        runId: 'pool',
        startedAt: fleet.now.toISOString(),
        finishedAt: fleet.now.toISOString(),
        source: 'sim' as const,
      },
      inventory: { InstanceInformationList: fleet.vms.map((vm) => simInstanceInformation(fleet, vm)) },
      cluster: simClusterEvidence(fleet),
    };
    const pooled = analyzeBundle({ ...bundle, invocations: Object.fromEntries(invocations.map((i) => [i.InstanceId, i])) });
    const alone = analyzeCollected({ ...bundle, vms: collectAll(undefined) });
    expect(pooled).toEqual(alone);
  });
});
