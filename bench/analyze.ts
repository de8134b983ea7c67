// Measures the pure analysis (parse every VM's output, join, evaluate every control) on simulated fleets
// of growing size, in one process, and prints the scaling ratios: on a shared machine the ratios measured
// in one run are what can be compared between runs, not the absolute times.
import { analyzeBundle } from '../lib/core/analyze.ts';
import type { EvidenceBundle, Invocation } from '../lib/core/evidence-bundle.ts';
import { simClusterEvidence, simInstanceInformation, simInvocation } from '../sim/cluster.ts';
import { buildSimFleetAsync } from '../sim/fleet.ts';

const NOW = new Date('2026-11-26T06:00:00.000Z');
const SIZES = (process.env.BENCH_SIZES ?? '100,1000,5000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function bundleOf(vms: number): Promise<EvidenceBundle> {
  const fleet = await buildSimFleetAsync({ vms, seed: 1, now: NOW });
  const invocations: Record<string, Invocation> = {};
  for (const vm of fleet.vms) invocations[vm.instanceId] = simInvocation(fleet, vm);
  return {
    manifest: { bundleVersion: 1, runId: 'bench', startedAt: NOW.toISOString(), finishedAt: NOW.toISOString(), source: 'sim' },
    inventory: { InstanceInformationList: fleet.vms.map((vm) => simInstanceInformation(fleet, vm)) },
    invocations,
    cluster: simClusterEvidence(fleet),
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Array<{ vms: number; ms: number; perVmMs: number; outputMiB: number; heapMiB: number }> = [];
for (const size of SIZES) {
  const bundle = await bundleOf(size);
  const outputBytes = Object.values(bundle.invocations).reduce((sum, inv) => sum + (inv.StandardOutputContent?.length ?? 0), 0);
  analyzeBundle(bundle); // warm-up
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    analyzeBundle(bundle);
    times.push(performance.now() - start);
  }
  const ms = median(times);
  results.push({ vms: size, ms, perVmMs: ms / size, outputMiB: outputBytes / 2 ** 20, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 });
}

console.log('analyze (median of %d rounds)', ROUNDS);
console.log('VMS     TOTAL ms   PER VM ms   OUTPUT MiB   HEAP MiB');
for (const r of results) {
  console.log(
    `${String(r.vms).padEnd(8)}${r.ms.toFixed(1).padStart(8)}   ${r.perVmMs.toFixed(3).padStart(9)}   ${r.outputMiB.toFixed(1).padStart(10)}   ${r.heapMiB.toFixed(0).padStart(8)}`,
  );
}
const first = results[0]!;
for (const r of results.slice(1)) {
  console.log(`per-VM time at ${r.vms} VMs / at ${first.vms} VMs: ${(r.perVmMs / first.perVmMs).toFixed(2)} (1.00 = linear)`);
}
