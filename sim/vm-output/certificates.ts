import type { SimVm } from '../fleet.ts';
import type { SimVmCertificates } from '../vm-certificates.ts';
import { lines, OUTPUT_CERTS_DIR, PROXY_UID } from './layout.ts';

/**
 * Bytes of /etc/certs/key.pem: the PKCS#8 PEM of the mesh's P-256 workload key (simulated certificates
 * are ECDSA P-256 unless a fleet asks for RSA) with the newline that ends the file.
 */
export const KEY_PEM_BYTES = 241;

/** `stat` of the certificates' directory (/etc/certs, or OUTPUT_CERTS), whose files hold the VM's PEMs (each ended by a newline) and its workload key. */
export function renderCertsListing(vm: SimVm, certificates: SimVmCertificates, writtenAt: number, keyMatch: 'yes' | 'unknown'): string {
  const line = (mode: string, size: number, name: string) =>
    `file mode=${mode} uid=${PROXY_UID} gid=${PROXY_UID} owner=istio-proxy size=${size} mtime=${writtenAt} name=${name}`;
  const keyMode = vm.faults.includes('key-world-readable') ? '0644' : '0600';
  return lines([
    vm.configuration === 'output-certs' ? `location=${OUTPUT_CERTS_DIR} source=OUTPUT_CERTS` : 'location=/etc/certs source=default',
    line('0644', pemFileBytes(certificates.chainPem), 'cert-chain.pem'),
    line(keyMode, KEY_PEM_BYTES, 'key.pem'),
    line('0644', pemFileBytes(certificates.rootPem), 'root-cert.pem'),
    `key_match=${keyMatch}`,
  ]);
}

export function pemFileBytes(pem: string): number {
  return Buffer.byteLength(pem.endsWith('\n') ? pem : `${pem}\n`);
}

/**
 * What the script's pem_certs keeps of the simulated PEM files, which hold well-formed certificate
 * blocks and nothing else: the lines of their CERTIFICATE blocks. (The script also checks each block's
 * DER and counts what it drops, docs/diagnostic-output.md; a simulated file has nothing to drop.)
 */
export function pemCertificateLines(pem: string): string {
  const kept: string[] = [];
  let inside = false;
  for (const line of pem.split('\n')) {
    if (/private key/i.test(line)) inside = false;
    else if (/^-----BEGIN CERTIFICATE-----\s?$/.test(line)) inside = true;
    else if (/-----begin/i.test(line)) inside = false;
    if (inside) kept.push(line);
    if (/-----end/i.test(line)) inside = false;
  }
  return lines(kept);
}

export function renderToken(vm: SimVm, nowSeconds: number): string {
  const claims = {
    aud: ['istio-ca'],
    exp: nowSeconds + 30 * 86400,
    iat: nowSeconds - 30 * 86400,
    iss: 'https://kubernetes.default.svc.cluster.local',
    sub: `system:serviceaccount:${vm.namespace}:${vm.serviceAccount}`,
  };
  return lines([
    'present=yes',
    `mode=0640 uid=${PROXY_UID} gid=${PROXY_UID} owner=istio-proxy mtime=${claims.iat}`,
    `payload=${Buffer.from(JSON.stringify(claims)).toString('base64url')}`,
  ]);
}

/** Envoy's `/config_dump?resource=dynamic_active_secrets` answer: `default` and `ROOTCA`, keys redacted. */
export function secretsDump(certs: SimVmCertificates, now: Date): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  // A protobuf Timestamp in JSON, as Envoy prints it: no fractional digits for a whole second.
  const updated = new Date(now.getTime() - 3600_000).toISOString().replace(/\.000Z$/, 'Z');
  return JSON.stringify(
    {
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
          name: 'default',
          version_info: updated,
          last_updated: updated,
          secret: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
            name: 'default',
            tls_certificate: {
              certificate_chain: { inline_bytes: b64(certs.chainPem) },
              private_key: { inline_bytes: 'W3JlZGFjdGVkXQ==' },
            },
          },
        },
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
          name: 'ROOTCA',
          version_info: updated,
          last_updated: updated,
          secret: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
            name: 'ROOTCA',
            validation_context: { trusted_ca: { inline_bytes: b64(certs.rootPem) } },
          },
        },
      ],
    },
    null,
    2,
  );
}
