import { mintWorkloadCertificate, type SimMeshPki } from './certificates.ts';
import type { SimFleet, SimVm } from './fleet.ts';
import { SeededRandom } from './random.ts';
import { hashString, type SimVmCertificates } from './vm-output.ts';

const HOUR_MS = 3_600_000;

/** How old a VM's current workload certificate is: Istio rotates at half of 24 h, so a healthy one is younger than 12 h. */
export function leafAgeHours(fleet: SimFleet, vm: SimVm): number {
  if (vm.faults.includes('cert-rotation-stuck')) return 20;
  return 1 + new SeededRandom(hashString(`${fleet.seed}:${vm.instanceId}:cert`)).int(0, 9);
}

/**
 * Mints every VM's workload certificate (24 h, SPIFFE identity of its service account) under the mesh
 * root, and picks the root each VM trusts: the previous one when the VM missed a root rotation.
 */
export async function mintVmCertificates(fleet: SimFleet & { pki: SimMeshPki }): Promise<ReadonlyMap<string, SimVmCertificates>> {
  const certificates = new Map<string, SimVmCertificates>();
  await Promise.all(
    fleet.vms.map(async (vm, i) => {
      const leaf = await mintWorkloadCertificate(fleet.pki.root, {
        namespace: vm.namespace,
        serviceAccount: vm.serviceAccount,
        notBefore: new Date(fleet.now.getTime() - leafAgeHours(fleet, vm) * HOUR_MS),
        serialNumber: `02${(fleet.seed >>> 0).toString(16).padStart(8, '0')}${i.toString(16).padStart(8, '0')}`,
      });
      const trusted = vm.rootCaRotated ? fleet.pki.previousRoot : fleet.pki.root;
      certificates.set(vm.instanceId, { chainPem: leaf.chainPem, rootPem: trusted.pem });
    }),
  );
  return certificates;
}
