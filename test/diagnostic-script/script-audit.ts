import { readFileSync } from 'node:fs';
import { analyzeBundle } from '../../lib/core/analyze.ts';
import type { EvidenceBundle, KubeList } from '../../lib/core/evidence-bundle.ts';
import { XDS_TYPE_URLS } from '../../lib/core/proxy-status.ts';
import type { Finding } from '../../lib/core/report.ts';
import { createFakeVm, VM, type FakeVmOptions, type RunResult, type ShellName } from './fake-vm.ts';

const INSTANCE_ID = 'i-0000000000000001';

/**
 * The cluster's Services as the API returns them: istiod-rev-1, the revision the fake VM's files name, and the
 * east-west gateway at 10.10.10.11, the address its /etc/hosts pins (test/fixtures/kube/services/).
 */
const SERVICES = JSON.parse(readFileSync(new URL('../fixtures/kube/services/service-list.json', import.meta.url), 'utf8')) as KubeList;

/**
 * The findings of the fake VM from one run of the real script, as an SSM run would give them: the VM
 * online, its proxy synced with one istiod replica, and the mesh root the fake VM's PKI holds.
 */
export function vmFindingsOfRun(run: RunResult, rootPem: string, started: Date, finished: Date): Finding[] {
  const bundle: EvidenceBundle = {
    manifest: { bundleVersion: 1, runId: 'script', startedAt: started.toISOString(), finishedAt: finished.toISOString(), source: 'replay' },
    inventory: { InstanceInformationList: [{ InstanceId: INSTANCE_ID, PingStatus: 'Online', IPAddress: VM.ip }] },
    invocations: {
      [INSTANCE_ID]: {
        InstanceId: INSTANCE_ID,
        Status: 'Success',
        ResponseCode: run.code ?? -1,
        StandardOutputContent: run.stdout,
        StandardErrorContent: run.stderr,
        ExecutionStartDateTime: started.toISOString(),
        ExecutionEndDateTime: finished.toISOString(),
      },
    },
    cluster: {
      workloadEntries: { items: [] },
      workloadGroups: { items: [] },
      services: SERVICES,
      serviceEntries: { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntryList', items: [] },
      istiodPods: {
        items: [
          {
            metadata: { name: 'istiod-a', namespace: 'istio-system', labels: { app: 'istiod', 'istio.io/rev': 'rev-1' } },
            spec: { containers: [{ name: 'discovery', image: `docker.io/istio/pilot:${VM.istioVersion}` }] },
            status: { phase: 'Running' },
          },
        ],
      },
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
      rootCa: { [VM.namespace]: { data: { 'root-cert.pem': rootPem } } },
    },
  };
  return analyzeBundle(bundle).findings.filter((f) => f.subject.kind === 'vm');
}

/** Runs the real script once on a fresh fake VM and closes it: the run, its findings, and the admin paths the script asked for. */
export async function auditFakeVm(
  options: FakeVmOptions,
  shell: ShellName = 'dash',
): Promise<{ run: RunResult; findings: Finding[]; requests: string[] }> {
  const vm = await createFakeVm(options);
  try {
    const started = new Date();
    const run = await vm.run(shell);
    return { run, findings: vmFindingsOfRun(run, vm.pki.rootPem, started, new Date()), requests: vm.requests };
  } finally {
    await vm.close();
  }
}
