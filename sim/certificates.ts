import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * Certificates of the simulated mesh, shaped like those of istiod's self-signed CA (Istio 1.24): a root
 * with subject `O=<trust domain>`, and 24 h workload certificates with an empty subject and a single
 * SPIFFE URI SAN. Keys are generated once per process and reused (one per role), so building many
 * fleets stays fast; certificates themselves are minted per call from the given dates and serials.
 */
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export type SimKeyAlgorithm = 'ECDSA-P256' | 'RSA-2048';

export interface SimCertificateAuthority {
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
  /** PEM of the root, as in the `root-cert.pem` key of the istio-ca-root-cert ConfigMap. */
  pem: string;
  /** SHA-256 of the DER certificate, lowercase hex without separators. */
  sha256Fingerprint: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  algorithm: SimKeyAlgorithm;
}

export interface MintRootCaOptions {
  /** Hexadecimal serial number. */
  serialNumber: string;
  notBefore: Date;
  /** Default 3650 days, istiod's self-signed root TTL. */
  validityDays?: number;
  trustDomain?: string;
  algorithm?: SimKeyAlgorithm;
  /** Which cached key to sign with: two roots of one mesh (before and after a rotation) need two keys. */
  keySlot?: number;
}

export interface MintWorkloadCertificateOptions {
  namespace: string;
  serviceAccount: string;
  notBefore: Date;
  /** Default 24 h, istiod's default workload certificate TTL. */
  lifetimeMs?: number;
  /** Hexadecimal serial number. */
  serialNumber: string;
  trustDomain?: string;
}

export interface SimWorkloadCertificate {
  spiffeId: string;
  /** The leaf alone. */
  certificatePem: string;
  /** Leaf then root: `/etc/certs/cert-chain.pem` and the `default` SDS secret's chain. */
  chainPem: string;
  /** PKCS#8 PEM, for a fake VM's `/etc/certs/key.pem` (never printed by the diagnostic script). */
  privateKeyPem: string;
  sha256Fingerprint: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

const DAY_MS = 86_400_000;
const WORKLOAD_TTL_MS = DAY_MS;
const keyCache = new Map<string, Promise<CryptoKeyPair>>();

function keyParams(algorithm: SimKeyAlgorithm): {
  generate: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;
  sign: webcrypto.Algorithm | webcrypto.EcdsaParams;
} {
  return algorithm === 'RSA-2048'
    ? {
        generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        sign: { name: 'RSASSA-PKCS1-v1_5' },
      }
    : { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams };
}

function cachedKeys(role: string, algorithm: SimKeyAlgorithm): Promise<CryptoKeyPair> {
  const key = `${role}:${algorithm}`;
  let keys = keyCache.get(key);
  if (!keys) {
    keys = webcrypto.subtle.generateKey(keyParams(algorithm).generate, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
    keyCache.set(key, keys);
  }
  return keys;
}

function fingerprint(certificate: x509.X509Certificate): string {
  return createHash('sha256').update(Buffer.from(certificate.rawData)).digest('hex');
}

/** Mints a mesh root CA like istiod's self-signed one (subject `O=cluster.local`, 10 years). */
export async function mintMeshRootCa(options: MintRootCaOptions): Promise<SimCertificateAuthority> {
  const algorithm = options.algorithm ?? 'ECDSA-P256';
  const keys = await cachedKeys(`root-${options.keySlot ?? 0}`, algorithm);
  const notAfter = new Date(options.notBefore.getTime() + (options.validityDays ?? 3650) * DAY_MS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: options.serialNumber,
    name: `O=${options.trustDomain ?? 'cluster.local'}`,
    notBefore: options.notBefore,
    notAfter,
    keys,
    signingAlgorithm: keyParams(algorithm).sign,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificate,
    privateKey: keys.privateKey,
    pem: certificate.toString('pem'),
    sha256Fingerprint: fingerprint(certificate),
    serialNumber: options.serialNumber,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    algorithm,
  };
}

/** Mints a workload certificate for `spiffe://<trust domain>/ns/<ns>/sa/<sa>`, signed by the given root. */
export async function mintWorkloadCertificate(
  ca: SimCertificateAuthority,
  options: MintWorkloadCertificateOptions,
): Promise<SimWorkloadCertificate> {
  const keys = await cachedKeys('workload', ca.algorithm);
  const spiffeId = `spiffe://${options.trustDomain ?? 'cluster.local'}/ns/${options.namespace}/sa/${options.serviceAccount}`;
  const notAfter = new Date(options.notBefore.getTime() + (options.lifetimeMs ?? WORKLOAD_TTL_MS));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber,
    subject: '',
    issuer: ca.certificate.subject,
    notBefore: options.notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: keyParams(ca.algorithm).sign,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
      // An empty subject makes the SAN the only name, so it must be critical (RFC 5280 4.2.1.6), as istiod does.
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const certificatePem = certificate.toString('pem');
  return {
    spiffeId,
    certificatePem,
    chainPem: `${certificatePem}\n${ca.pem}\n`,
    privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    sha256Fingerprint: fingerprint(certificate),
    serialNumber: options.serialNumber,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

/** The two roots of a simulated mesh: the one in every istio-ca-root-cert ConfigMap, and the one it replaced. */
export interface SimMeshPki {
  root: SimCertificateAuthority;
  /** Trusted by VMs flagged `rootCaRotated`: they never picked up the rotation. */
  previousRoot: SimCertificateAuthority;
}

/** Mints the simulated mesh's roots: the current one issued 90 days before `now`, the previous one 400 days before. */
export async function mintSimMeshPki(options: {
  seed: number;
  now: Date;
  trustDomain?: string;
  algorithm?: SimKeyAlgorithm;
}): Promise<SimMeshPki> {
  // A leading 01 byte keeps the DER INTEGER positive and the hex even-length.
  const serial = (n: number): string => `01${(options.seed >>> 0).toString(16).padStart(8, '0')}${n.toString(16).padStart(8, '0')}`;
  const common = {
    ...(options.trustDomain ? { trustDomain: options.trustDomain } : {}),
    ...(options.algorithm ? { algorithm: options.algorithm } : {}),
  };
  const [root, previousRoot] = await Promise.all([
    mintMeshRootCa({ ...common, serialNumber: serial(2), notBefore: new Date(options.now.getTime() - 90 * DAY_MS), keySlot: 0 }),
    mintMeshRootCa({ ...common, serialNumber: serial(1), notBefore: new Date(options.now.getTime() - 400 * DAY_MS), keySlot: 1 }),
  ]);
  return { root, previousRoot };
}

export interface SimTlsServerCertificate {
  /** The CA clients trust (a kubeconfig's certificate-authority-data). */
  caPem: string;
  certificatePem: string;
  privateKeyPem: string;
}

/** Mints a private CA and a TLS server certificate for loopback (127.0.0.1, ::1, localhost), e.g. for the simulated API server. */
export async function mintLoopbackServerCertificate(options: { now: Date; commonName?: string }): Promise<SimTlsServerCertificate> {
  const ca = await mintMeshRootCa({
    serialNumber: '01aa',
    notBefore: new Date(options.now.getTime() - DAY_MS),
    validityDays: 30,
    trustDomain: 'kubernetes',
    keySlot: 9,
  });
  const keys = await cachedKeys('tls-server', ca.algorithm);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: '01ab',
    subject: `CN=${options.commonName ?? 'kube-apiserver'}`,
    issuer: ca.certificate.subject,
    notBefore: new Date(options.now.getTime() - DAY_MS),
    notAfter: new Date(options.now.getTime() + 30 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: keyParams(ca.algorithm).sign,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { caPem: ca.pem, certificatePem: certificate.toString('pem'), privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
