import { describe, expect, it } from 'vitest';
import { analyzeBundle } from '../../lib/core/analyze.ts';
import type { EvidenceBundle } from '../../lib/core/evidence-bundle.ts';
import { readIstiodSettings } from '../../lib/core/istiod-settings.ts';
import { reg03 } from '../../lib/core/controls/registration.ts';
import { simClusterEvidence, simInstanceInformation, simInvocation } from '../../sim/cluster.ts';
import { buildSimFleet, type SimFleetOptions } from '../../sim/fleet.ts';

const NOW = new Date('2026-11-26T06:00:00.000Z');

function simulate(istiod: SimFleetOptions['istiod']) {
  const fleet = buildSimFleet({ vms: 50, seed: 7, now: NOW, faults: ['stale-connected-at'], ...(istiod ? { istiod } : {}) });
  const cluster = simClusterEvidence(fleet);
  const bundle: EvidenceBundle = {
    manifest: { bundleVersion: 1, runId: 'istiod-settings', startedAt: NOW.toISOString(), finishedAt: NOW.toISOString(), source: 'replay' },
    inventory: { InstanceInformationList: fleet.vms.map((vm) => simInstanceInformation(fleet, vm)) },
    invocations: Object.fromEntries(fleet.vms.map((vm) => [vm.instanceId, simInvocation(fleet, vm)])),
    cluster,
  };
  const findings = analyzeBundle(bundle, { controls: [reg03] }).findings;
  const stale = fleet.vms.find((vm) => vm.faults.includes('stale-connected-at'))!;
  return { cluster, findings, staleEntry: `${stale.namespace}/${stale.group}-${stale.ip}` };
}

describe("the simulated istiod's settings", () => {
  it("are in its pods as the Helm chart renders them: the chart's 30m flag, PILOT_CA_CERT_CONFIGMAP only when renamed", () => {
    const { cluster } = simulate(undefined);
    for (const pod of cluster.istiodPods!.items) {
      expect(readIstiodSettings(pod)).toEqual({
        readable: true,
        rootCaConfigMap: { value: undefined, source: 'unset' },
        maxConnectionAge: { value: '30m', source: 'flag' },
      });
    }
    const renamed = simulate({ rootCaConfigMap: 'mesh-trust-bundle', keepaliveMaxServerConnectionAge: null }).cluster;
    expect(readIstiodSettings(renamed.istiodPods!.items[0])).toEqual({
      readable: true,
      rootCaConfigMap: { value: 'mesh-trust-bundle', source: 'env' },
      maxConnectionAge: { value: undefined, source: 'unset' },
    });
  });

  it("give REG-03 its window: the 3 h old entry leaked under the chart's 30m, but not under 4h or without the flag", () => {
    const byChart = simulate(undefined);
    expect(byChart.findings.filter((f) => f.status === 'FAIL').map((f) => f.subject.id)).toEqual([byChart.staleEntry]);
    expect(byChart.findings.find((f) => f.subject.id === byChart.staleEntry)!.message).toMatch(
      /^connectedAt is 180 min old, beyond the liveness window of 45 min \(1\.5 × 30m, the --keepaliveMaxServerConnectionAge of istiod-/,
    );
    const long = simulate({ keepaliveMaxServerConnectionAge: '4h' });
    expect(long.findings.filter((f) => f.status !== 'PASS' && f.status !== 'SKIP')).toEqual([]);
    expect(long.findings.find((f) => f.subject.id === long.staleEntry)!.message).toContain('within the liveness window of 6 h (1.5 × 4h');
    const unlimited = simulate({ keepaliveMaxServerConnectionAge: null });
    expect(unlimited.findings.find((f) => f.subject.id === unlimited.staleEntry)!.status).toBe('PASS');
    const short = simulate({ keepaliveMaxServerConnectionAge: '10m' });
    expect(short.findings.filter((f) => f.status === 'FAIL').length).toBeGreaterThan(40);
  });
});
