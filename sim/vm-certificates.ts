import { mintWorkloadCertificate, type SimMeshPki } from './certificates.ts';
import { hashString, SeededRandom } from './random.ts';

const HOUR_MS = 3_600_000;

/** What minting reads of a VM and of its fleet, named here because fleet.ts calls this file while it builds both. */
interface CertifiedVm {
  instanceId: string;
  namespace: string;
  serviceAccount: string;
  faults: readonly string[];
  rootCaRotated: boolean;
}
interface CertifiedFleet {
  seed: number;
  now: Date;
  vms: readonly CertifiedVm[];
}

/** The certificates a simulated VM holds: on disk in /etc/certs and served by Envoy. */
export interface SimVmCertificates {
  /** Leaf then intermediates/root, PEM (what Envoy serves as `default` and /etc/certs/cert-chain.pem holds). */
  chainPem: string;
  /** The root the VM trusts (Envoy's ROOTCA and /etc/certs/root-cert.pem). */
  rootPem: string;
}

/** How old a VM's current workload certificate is: Istio rotates at half of 24 h, so a healthy one is younger than 12 h. */
export function leafAgeHours(fleet: CertifiedFleet, vm: CertifiedVm): number {
  if (vm.faults.includes('cert-rotation-stuck')) return 20;
  return 1 + new SeededRandom(hashString(`${fleet.seed}:${vm.instanceId}:cert`)).int(0, 9);
}

/**
 * Mints every VM's workload certificate (24 h, SPIFFE identity of its service account) under the mesh
 * root, and picks the root each VM trusts: the previous one when the VM missed a root rotation.
 */
export async function mintVmCertificates(fleet: CertifiedFleet & { pki: SimMeshPki }): Promise<ReadonlyMap<string, SimVmCertificates>> {
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
