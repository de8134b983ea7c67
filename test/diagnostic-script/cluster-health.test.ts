import { describe, expect, it } from 'vitest';
import type { Finding } from '../../lib/core/report.ts';
import { fixture } from '../support/fixtures.ts';
import { healthyClusterStatuses } from './fake-envoy-clusters.ts';
import { SHELLS, VM, type FakeVmOptions, type ShellName } from './fake-vm.ts';
import { auditFakeVm } from './script-audit.ts';

/** The real script on a fake VM, through the parsers and every control: the VM's XDS-06 and COLLECT-03. */
async function audit(options: FakeVmOptions, shell: ShellName): Promise<{ findings: Finding[]; requests: string[] }> {
  const { run, findings, requests } = await auditFakeVm(options, shell);
  expect(run.stderr).toBe('');
  return { findings, requests };
}
const of = (findings: Finding[], control: string) => findings.find((f) => f.control === control);

/** A VM on another network given the pods' addresses: every outbound endpoint ejected (test/fixtures/envoy-clusters). */
const OTHER_NETWORK = fixture('envoy-clusters/sidecar-other-network.json');

describe("XDS-06 on the real script's output of a fake VM", () => {
  it.each(SHELLS)('passes for a healthy VM and fails for its twin on another network (%s)', async (shell) => {
    const healthy = await audit({}, shell);
    expect(healthy.requests).toContain('/clusters?format=json');
    expect(of(healthy.findings, 'XDS-06')).toMatchObject({
      status: 'PASS',
      message: 'each of the 3 outbound clusters with endpoints has a healthy one',
    });
    const twin = await audit({ envoyClusterStatuses: OTHER_NETWORK }, shell);
    expect(of(twin.findings, 'XDS-06')).toMatchObject({ status: 'FAIL', severity: 'HIGH' });
    expect(of(twin.findings, 'XDS-06')?.message).toMatch(/^28 of 28 outbound clusters have endpoints but none healthy.*; and 18 more$/);
    // Nothing else tells the two apart.
    const others = (findings: Finding[]) => findings.filter((f) => f.control !== 'XDS-06').map((f) => [f.control, f.status]);
    expect(others(twin.findings)).toEqual(others(healthy.findings));
  });

  it('is ERROR, never PASS, when the answer is larger than the script keeps', async () => {
    const answer = JSON.parse(healthyClusterStatuses(VM)) as { cluster_statuses: Array<{ name: string; host_statuses?: unknown[] }> };
    const healthy = answer.cluster_statuses.find((c) => c.host_statuses && c.name.startsWith('outbound|'))!;
    for (let i = 0; JSON.stringify(answer, null, 1).length <= 524_288; i++)
      answer.cluster_statuses.push({ ...healthy, name: `outbound|80||svc-${i}.padding.svc.cluster.local` });
    const { findings } = await audit({ envoyClusterStatuses: JSON.stringify(answer, null, 1) }, 'dash');
    expect(of(findings, 'XDS-06')).toMatchObject({ status: 'ERROR', message: 'section envoy-clusters-health was cut' });
    expect(of(findings, 'COLLECT-03')?.message).toContain('cut: envoy-clusters-health');
  });
});
