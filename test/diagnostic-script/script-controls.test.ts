import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeBundle } from '../../lib/core/analyze.ts';
import type { EvidenceBundle } from '../../lib/core/evidence-bundle.ts';
import { XDS_TYPE_URLS } from '../../lib/core/proxy-status.ts';
import type { FindingStatus } from '../../lib/core/report.ts';
import { createFakeVm, VM, type FakeVm, type FakeVmOptions } from './fake-vm.ts';

// The real script's output on a fake VM, through the parsers and every control: what an SSM run gives.
async function audit(options: FakeVmOptions = {}): Promise<Record<string, FindingStatus>> {
  const vm: FakeVm = await createFakeVm(options);
  try {
    const started = new Date();
    const run = await vm.run('dash');
    const now = new Date().toISOString();
    const bundle: EvidenceBundle = {
      manifest: { bundleVersion: 1, runId: 'script', startedAt: started.toISOString(), finishedAt: now, source: 'replay' },
      inventory: { InstanceInformationList: [{ InstanceId: 'i-0000000000000001', PingStatus: 'Online', IPAddress: VM.ip }] },
      invocations: {
        'i-0000000000000001': {
          InstanceId: 'i-0000000000000001',
          Status: 'Success',
          ResponseCode: run.code ?? -1,
          StandardOutputContent: run.stdout,
          StandardErrorContent: run.stderr,
          ExecutionStartDateTime: started.toISOString(),
          ExecutionEndDateTime: now,
        },
      },
      cluster: {
        workloadEntries: { items: [] },
        workloadGroups: { items: [] },
        istiodPods: {
          items: [
            {
              metadata: { name: 'istiod-a', namespace: 'istio-system' },
              spec: { containers: [{ name: 'discovery', image: `docker.io/istio/pilot:${VM.istioVersion}` }] },
            },
          ],
        },
        // As istiod 1.24 answers /debug/syncz: every watched type under `resources` (a sidecar does not watch ECDS).
        syncz: {
          'istiod-a': [
            {
              proxy: `${VM.hostname}.${VM.namespace}`,
              istio_version: VM.istioVersion,
              resources: Object.fromEntries(
                (['CDS', 'LDS', 'EDS', 'RDS'] as const).map((t) => [XDS_TYPE_URLS[t], { sent: 'n1', acked: 'n1' }]),
              ),
            },
          ],
        },
        rootCa: { [VM.namespace]: { data: { 'root-cert.pem': vm.pki.rootPem } } },
      },
    };
    const report = analyzeBundle(bundle);
    return Object.fromEntries(report.findings.filter((f) => f.subject.kind === 'vm').map((f) => [f.control, f.status]));
  } finally {
    await vm.close();
  }
}

describe('the controls on the real script output of a fake VM', () => {
  let healthy: Record<string, FindingStatus>;
  beforeAll(async () => {
    healthy = await audit();
  });
  afterAll(() => undefined);

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

  it('fail LOGS-01 on a known-bad log line and LOGS-02 on debug flags', async () => {
    const found = await audit({
      logLines: ['2026-11-26T06:00:00.000000Z\terror\tx509: certificate signed by unknown authority'],
      clusterEnvExtra: "ISTIO_AGENT_FLAGS='--proxyLogLevel=debug'",
    });
    expect(found).toMatchObject({ 'LOGS-01': 'FAIL', 'LOGS-02': 'FAIL' });
  });
});
