import { beforeAll, describe, expect, it } from 'vitest';
import type { FindingStatus } from '../../lib/core/report.ts';
import type { FakeVmOptions } from './fake-vm.ts';
import { auditFakeVm } from './script-audit.ts';

// The real script's output on a fake VM, through the parsers and every control: what an SSM run gives.
async function audit(options: FakeVmOptions = {}): Promise<Record<string, FindingStatus>> {
  const { findings } = await auditFakeVm(options);
  return Object.fromEntries(findings.map((f) => [f.control, f.status]));
}

describe('the controls on the real script output of a fake VM', () => {
  let healthy: Record<string, FindingStatus>;
  beforeAll(async () => {
    healthy = await audit();
  });

  it('pass for a healthy VM, but for the istiod dial error its log holds and the WorkloadEntry this cluster lacks', () => {
    const notPassing = Object.entries(healthy).filter(([, s]) => s !== 'PASS' && s !== 'SKIP');
    expect(notPassing).toEqual([
      ['LOGS-01', 'FAIL'],
      ['REG-01', 'FAIL'],
    ]);
  });

  it('fail the health controls for a stopped sidecar', async () => {
    const found = await audit({ unit: 'stopped', readiness: 'refused', envoy: 'refused' });
    expect(found).toMatchObject({ 'HEALTH-01': 'FAIL', 'HEALTH-03': 'FAIL', 'HEALTH-05': 'FAIL', 'CFG-01': 'ERROR', 'CERT-01': 'ERROR' });
  });

  it('fail CERT-04 for a world-readable key and a key that does not match', async () => {
    expect((await audit({ keyMode: 0o644 }))['CERT-04']).toBe('FAIL');
    expect((await audit({ keyMismatch: true }))['CERT-04']).toBe('FAIL');
  });

  it('fail COLLECT-03 and make NET ERROR when no iptables tool exists', async () => {
    const found = await audit({
      without: [
        'iptables-save',
        'ip6tables-save',
        'iptables-legacy-save',
        'iptables-nft-save',
        'ip6tables-legacy-save',
        'ip6tables-nft-save',
      ],
    });
    expect(found).toMatchObject({ 'COLLECT-03': 'FAIL', 'NET-01': 'ERROR', 'NET-05': 'ERROR' });
  });

  it('pass CFG-02 on the VM istioctl configured, and fail it on its twin whose /etc/hosts pins an address the gateway does not have', async () => {
    expect(healthy['CFG-02']).toBe('PASS');
    // The same line istioctl wrote, with the gateway's previous address.
    const twin = await audit({ etcHosts: '127.0.0.1 localhost\n10.10.10.12 istiod-rev-1.istio-system.svc\n' });
    expect(twin['CFG-02']).toBe('FAIL');
    const removed = await audit({
      clusterEnvExtra: "CA_ADDR='istiod-1-22.istio-system.svc:15012'",
      etcHosts: '10.10.10.11 istiod-1-22.istio-system.svc\n',
    });
    expect(removed['CFG-02']).toBe('FAIL');
  });

  it('fail LOGS-01 on a known-bad log line and LOGS-02 on debug flags', async () => {
    const found = await audit({
      logLines: ['2026-11-26T06:00:00.000000Z\terror\tx509: certificate signed by unknown authority'],
      clusterEnvExtra: "ISTIO_AGENT_FLAGS='--proxyLogLevel=debug'",
    });
    expect(found).toMatchObject({ 'LOGS-01': 'FAIL', 'LOGS-02': 'FAIL' });
  });
});
