import { describe, expect, it } from 'vitest';
import { renderTerminalSummary, worstVms } from '../../../lib/core/render/terminal-summary.ts';
import { expectGolden } from '../../support/golden.ts';
import { sampleReport } from '../../support/sample-report.ts';

describe('renderTerminalSummary', () => {
  it('prints per-control counts, the worst VMs and mesh findings', () => {
    expectGolden(renderTerminalSummary(sampleReport()), 'terminal-summary.txt');
  });

  it('never lets a VM write control characters to the terminal', () => {
    expect(renderTerminalSummary(sampleReport())).not.toContain('\u001b');
  });

  it('says how many more VMs are not compliant when it shows only the worst', () => {
    const summary = renderTerminalSummary(sampleReport(), { worst: 1 });
    expect(summary).toContain('\n… and 2 more VMs that are not compliant: see report.html\n');
  });

  it('ranks the VM with the most severe failures first and leaves compliant VMs out', () => {
    expect(worstVms(sampleReport()).map((w) => w.vm.instanceId)).toEqual([
      'i-0000000000000002',
      'mi-00000000000000004',
      'i-0000000000000003',
    ]);
  });
});
