import { X509Certificate } from 'node:crypto';
import { BoundedMap } from '../bounded-map.ts';

/*
 * X.509 certificates of a PEM bundle (RFC 7468), public parts only, read with node:crypto. Used by the
 * proxy-config tables, by the VM snapshot (Envoy's secrets and the certificates on disk) and by the
 * certificate controls: how a serial is printed is each reader's business, the certificate is read once here.
 */

/** One X.509 certificate of a secret, public parts only. */
export interface CertificateInfo {
  /** As a number: Envoy and istioctl print it in decimal, hex or zero-padded hex depending on the version. */
  serialNumber: bigint;
  /** Distinguished name, RDNs joined with ", " ('' for the empty subject of an Istio workload certificate). */
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, lowercase hex without separators. */
  sha256Fingerprint: string;
  sanUris: string[];
  isCa: boolean;
  /** The certificate alone, PEM-encoded. */
  pem: string;
}

/** Certificates of a PEM bundle; `primary` is the first PEM block when it is a readable certificate. */
export interface PemCertificates {
  certificates: CertificateInfo[];
  primary: CertificateInfo | undefined;
  problems: string[];
}

/** Reads the certificates of a PEM bundle with node:crypto. Never throws; other PEM blocks are ignored undecoded. */
export function parsePemCertificates(pem: string): PemCertificates {
  const certificates: CertificateInfo[] = [];
  const problems: string[] = [];
  let primary: CertificateInfo | undefined;
  let index = 0;
  for (const { label, body } of pemBlocks(pem)) {
    const position = index++;
    if (label !== 'CERTIFICATE') {
      problems.push(`PEM block ${position + 1} is a ${label || 'nameless'} block, not a certificate`);
      continue;
    }
    const certificate = readCertificate(body);
    if (!certificate) {
      problems.push(`PEM block ${position + 1} is not a readable X.509 certificate`);
      continue;
    }
    certificates.push(certificate);
    if (position === 0) primary = certificate;
  }
  if (index === 0) problems.push('no PEM block found');
  return { certificates, primary, problems };
}

/**
 * The `-----BEGIN <label>-----` … `-----END <label>-----` blocks of RFC 7468 text, found with indexOf so the
 * scan stays linear: a regex with a lazy body rescans the rest of the input for every unmatched BEGIN.
 */
const MAX_PEM_BLOCKS = 64;

function* pemBlocks(text: string): Generator<{ label: string; body: string }> {
  let at = 0;
  // Each label's END is searched for once; and a chain has a handful of blocks, so a few dozen bound the work.
  const unterminated = new Set<string>();
  for (let blocks = 0; at < text.length && blocks < MAX_PEM_BLOCKS; blocks++) {
    const begin = text.indexOf('-----BEGIN ', at);
    if (begin < 0) return;
    const labelEnd = text.indexOf('-----', begin + 11);
    if (labelEnd < 0 || labelEnd - begin > 11 + 64) {
      at = begin + 11;
      continue;
    }
    const label = text.slice(begin + 11, labelEnd);
    const endMarker = `-----END ${label}-----`;
    const end = unterminated.has(label) ? -1 : text.indexOf(endMarker, labelEnd + 5);
    if (end < 0) unterminated.add(label);
    // Without its END, this BEGIN opens nothing: look for the next BEGIN after it, never past it again.
    if (end < 0 || /[\r\n]/.test(label)) {
      at = labelEnd + 5;
      continue;
    }
    yield { label, body: text.slice(labelEnd + 5, end) };
    at = end + endMarker.length;
  }
}

/**
 * Certificates already read, by their base64 text. A fleet's VMs hold the same CA certificates, and each
 * VM its leaf twice (on disk and in Envoy's secrets): reading X.509 is the costliest step of a VM's
 * snapshot, and the same text always reads the same. Callers only read what they get, never change it.
 */
const readCertificates = new BoundedMap<string, CertificateInfo | null>(1_024);

function readCertificate(body: string): CertificateInfo | undefined {
  // RFC 7468 allows headers before the base64 text (RFC 1421 style); a header line holds a colon.
  const base64 = body
    .split(/\r?\n/)
    .filter((line) => !line.includes(':'))
    .join('')
    .replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const known = readCertificates.get(base64);
  if (known !== undefined) return known ?? undefined;
  const certificate = decodeCertificate(base64);
  // A copy of the key: the text may be a slice of the whole output it was read from, which must not stay alive.
  readCertificates.shared(structuredClone(base64), certificate ?? null);
  return certificate;
}

function decodeCertificate(base64: string): CertificateInfo | undefined {
  try {
    const x509 = new X509Certificate(Buffer.from(base64, 'base64'));
    const serialNumber = serialFromOpenSsl(x509.serialNumber);
    if (serialNumber === undefined) return undefined;
    return {
      serialNumber,
      subject: joinDistinguishedName(x509.subject),
      issuer: joinDistinguishedName(x509.issuer),
      notBefore: x509.validFromDate,
      notAfter: x509.validToDate,
      sha256Fingerprint: normalizeFingerprint(x509.fingerprint256),
      sanUris: subjectAltNames(x509.subjectAltName, 'URI'),
      isCa: x509.ca,
      pem: x509.toString(),
    };
  } catch {
    return undefined;
  }
}

// node:crypto prints the serial as OpenSSL's BN_bn2hex: uppercase hex, whole bytes, '-' when negative.
function serialFromOpenSsl(text: string): bigint | undefined {
  const m = /^(?<sign>-?)(?<hex>[0-9A-Fa-f]+)$/.exec(text)?.groups;
  if (!m?.hex) return undefined;
  const value = BigInt(`0x${m.hex}`);
  return m.sign ? -value : value;
}

// node:crypto separates RDNs with newlines.
function joinDistinguishedName(dn: string | undefined): string {
  return (dn ?? '')
    .split('\n')
    .filter((rdn) => rdn !== '')
    .join(', ');
}

// node:crypto's subjectAltName: `URI:spiffe://…, DNS:host`; a value holding ", " or quotes is JSON-quoted.
const SAN_ENTRY = /(?<kind>[A-Za-z ]+):(?:"(?<quoted>(?:[^"\\]|\\.)*)"|(?<plain>[^,]*))(?:, |$)/g;

function subjectAltNames(text: string | undefined, kind: string): string[] {
  const names: string[] = [];
  for (const match of (text ?? '').matchAll(SAN_ENTRY)) {
    const g = match.groups ?? {};
    if (g.kind !== kind) continue;
    if (g.quoted !== undefined) {
      try {
        names.push(String(JSON.parse(`"${g.quoted}"`)));
      } catch {
        names.push(g.quoted);
      }
    } else if (g.plain !== undefined) {
      names.push(g.plain);
    }
  }
  return names;
}

/** Puts a SHA-256 fingerprint in any usual spelling (`AB:CD:…`, `abcd…`) into lowercase hex without separators. */
export function normalizeFingerprint(text: string): string {
  return text.replace(/[:\s]/g, '').toLowerCase();
}

/**
 * Reads a certificate serial number as printed by some tool: `decimal` (istioctl ≤ 1.17), or `hex` (istioctl
 * 1.18–1.28 without leading zeros, 1.29+ zero-padded, Envoy `/certs`, openssl with colons, an optional `0x`).
 * Undefined when the text is not a serial in that notation.
 */
export function parseSerialNumber(text: string, notation: 'decimal' | 'hex'): bigint | undefined {
  const trimmed = text.trim();
  if (notation === 'decimal') {
    const m = /^(?<sign>-?)(?<digits>\d+)$/.exec(trimmed)?.groups;
    if (!m?.digits) return undefined;
    return m.sign ? -BigInt(m.digits) : BigInt(m.digits);
  }
  const m = /^(?<sign>-?)(?:0x)?(?<hex>[0-9A-Fa-f]+(?::[0-9A-Fa-f]+)*)$/i.exec(trimmed)?.groups;
  if (!m?.hex) return undefined;
  const value = BigInt(`0x${m.hex.replace(/:/g, '')}`);
  return m.sign ? -value : value;
}

/** A serial number as istioctl 1.18–1.28 prints it (Go's `%x` of a big.Int): lowercase hex, no leading zeros. */
export function formatSerialHex(serial: bigint): string {
  return serial < 0n ? `-${(-serial).toString(16)}` : serial.toString(16);
}

/** Whether `now` lies strictly inside the certificate's validity, as istioctl's VALID CERT column decides it. */
export function isCertificateValidAt(certificate: CertificateInfo, now: Date): boolean {
  const t = now.getTime();
  return t > certificate.notBefore.getTime() && t < certificate.notAfter.getTime();
}
