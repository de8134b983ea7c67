import { describe, expect, it } from 'vitest';
import { buildSimFleet, isFaultPresentOn, SIM_FAULTS, VM_FAULTS } from '../../sim/fleet.ts';

const now = new Date('2026-11-01T06:00:00Z');
const DAYS = Array.from({ length: 30 }, (_, d) => d);

describe('an aging simulated fleet', () => {
  it('keeps every fault without a day, as before', () => {
    const fleet = buildSimFleet({ vms: 50, seed: 3, now });
    expect(fleet.vms.flatMap((vm) => vm.faults).sort()).toEqual([...VM_FAULTS].sort());
  });

  it('changes only which faults are present from one day to the next', () => {
    const [a, b] = [buildSimFleet({ vms: 50, seed: 3, now, day: 4 }), buildSimFleet({ vms: 50, seed: 3, now, day: 20 })];
    expect(a.vms.map((vm) => [vm.instanceId, vm.ip, vm.hostname])).toEqual(b.vms.map((vm) => [vm.instanceId, vm.ip, vm.hostname]));
    const all = buildSimFleet({ vms: 50, seed: 3, now });
    // A fault, when present, is always on the VM that carries it in the full fleet.
    for (const fleet of [a, b]) {
      for (const [i, vm] of fleet.vms.entries()) for (const fault of vm.faults) expect(all.vms[i]!.faults).toContain(fault);
    }
  });

  it('has faults that appear, persist and get fixed over a month, the same for the same seed', () => {
    const lives = SIM_FAULTS.map((fault) => DAYS.map((day) => isFaultPresentOn(3, fault, day)));
    expect(lives).toEqual(SIM_FAULTS.map((fault) => DAYS.map((day) => isFaultPresentOn(3, fault, day))));
    expect(
      lives.some((days) => !days[0] && days.includes(true)),
      'a fault that appears',
    ).toBe(true);
    expect(
      lives.some((days) => days.indexOf(true) >= 0 && days.lastIndexOf(true) < 29),
      'a fault that is fixed',
    ).toBe(true);
    expect(
      lives.some((days) => days.filter(Boolean).length >= 3),
      'a fault that persists',
    ).toBe(true);
    const faults = buildSimFleet({ vms: 50, seed: 3, now, day: 10 }).vms.flatMap((vm) => vm.faults);
    expect(faults.sort()).toEqual(VM_FAULTS.filter((f) => isFaultPresentOn(3, f, 10)).sort());
  });
});
