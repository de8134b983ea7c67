import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeConfig } from '../../lib/adapters/kube-config.ts';
import { KubeMeshReader, type KubeMeshReaderOptions } from '../../lib/adapters/kube-mesh-reader.ts';
import { analyzeBundle } from '../../lib/core/analyze.ts';
import type { ClusterEvidence, EvidenceBundle } from '../../lib/core/evidence-bundle.ts';
import { simClusterEvidence, simInstanceInformation, simInvocation } from '../../sim/cluster.ts';
import { buildSimFleetAsync, type SimFleet } from '../../sim/fleet.ts';
import { startKubeApiServer, type KubeApiServer } from '../../sim/kube-api-server.ts';

const NOW = new Date('2026-11-26T06:00:00.000Z');
const RENAMED = 'mesh-trust-bundle';
// A mesh that renames its root grants the audit that name too (infra/k8s/rbac.yaml lists istio-ca-root-cert).
const RBAC = readFileSync(new URL('../../infra/k8s/rbac.yaml', import.meta.url), 'utf8').replace(
  'resourceNames: ["istio-ca-root-cert"]',
  `resourceNames: ["istio-ca-root-cert", "${RENAMED}"]`,
);

describe('a mesh whose root of trust istiod publishes under another name (PILOT_CA_CERT_CONFIGMAP)', () => {
  let dir: string;
  let fleet: SimFleet;
  let server: KubeApiServer;
  let kubeconfigPath: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-root-ca-'));
    fleet = await buildSimFleetAsync({ vms: 50, seed: 7, now: NOW, istiod: { rootCaConfigMap: RENAMED } });
    server = await startKubeApiServer({ cluster: simClusterEvidence(fleet), rbacYaml: RBAC });
    kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, server.kubeconfigYaml({}));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function read(options: Partial<KubeMeshReaderOptions> = {}): Promise<{ evidence: ClusterEvidence; calls: string[] }> {
    const { kubeConfig } = await buildKubeConfig({ kind: 'file', path: kubeconfigPath });
    const { evidence, problems, calls } = await new KubeMeshReader({ kubeConfig, ...options }).readClusterWithProblems(
      fleet.namespaces.map((n) => n.name),
    );
    return { evidence: { ...evidence, problems }, calls };
  }

  function audit(cluster: ClusterEvidence) {
    const bundle: EvidenceBundle = {
      manifest: {
        bundleVersion: 1,
        runId: 'root-ca-renamed',
        startedAt: NOW.toISOString(),
        finishedAt: NOW.toISOString(),
        source: 'replay',
      },
      inventory: { InstanceInformationList: fleet.vms.map((vm) => simInstanceInformation(fleet, vm)) },
      invocations: Object.fromEntries(fleet.vms.map((vm) => [vm.instanceId, simInvocation(fleet, vm)])),
      cluster,
    };
    return analyzeBundle(bundle).findings.filter((f) => f.control === 'CERT-02');
  }

  it("reads the ConfigMap under the name istiod's pods are run with, and CERT-02 fails only the VM that trusts the old root", async () => {
    const { evidence, calls } = await read();
    expect(evidence.problems).toEqual([]);
    expect(Object.keys(evidence.rootCa).sort()).toEqual(fleet.namespaces.map((n) => n.name).sort());
    for (const cm of Object.values(evidence.rootCa)) expect(cm.metadata?.name).toBe(RENAMED);
    expect(calls.filter((c) => c.includes('/configmaps/'))).toEqual(
      fleet.namespaces.map((n) => `GET /api/v1/namespaces/${n.name}/configmaps/${RENAMED}`).sort(),
    );
    const cert02 = audit(evidence);
    const rotated = fleet.vms.filter((vm) => vm.rootCaRotated).map((vm) => vm.instanceId);
    expect(cert02.filter((f) => f.status === 'FAIL').map((f) => f.subject.id)).toEqual(rotated);
    expect(cert02.filter((f) => f.status === 'PASS').length).toBeGreaterThan(40);
  });

  it('reads the name given by hand instead of asking istiod', async () => {
    const { evidence } = await read({ rootCaConfigMap: RENAMED });
    expect(Object.keys(evidence.rootCa)).toHaveLength(fleet.namespaces.length);
    // Told the default name, the reader finds no root: CERT-02 cannot be decided (ERROR), never a PASS or a false FAIL.
    const wrong = await read({ rootCaConfigMap: 'istio-ca-root-cert' });
    expect(wrong.evidence.rootCa).toEqual({});
    expect(wrong.evidence.problems!.map((p) => [p.part, p.kind])).toEqual(fleet.namespaces.map(() => ['root-ca', 'not-found']));
    expect(
      new Set(
        audit(wrong.evidence)
          .filter((f) => f.subject.id !== fleet.vms.find((vm) => vm.faults.includes('ssm-undeliverable'))?.instanceId)
          .map((f) => f.status),
      ),
    ).toEqual(new Set(['ERROR']));
  });

  it('refuses a name that is not a ConfigMap name', async () => {
    const { kubeConfig } = await buildKubeConfig({ kind: 'file', path: kubeconfigPath });
    expect(() => new KubeMeshReader({ kubeConfig, rootCaConfigMap: '../secrets' })).toThrow(/rootCaConfigMap must be a ConfigMap name/);
  });
});
