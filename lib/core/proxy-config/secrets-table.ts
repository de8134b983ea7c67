import { goTabwriter, type TabwriterSettings } from '../render/go-tabwriter.ts';
import { sanitizeForTerminal } from '../render/text.ts';
import { formatSerialHex, isCertificateValidAt, type CertificateInfo } from '../certificates/pem.ts';
import type { SecretEntry } from './secrets-dump.ts';

// istioctl/pkg/writer/compare/sds/writer.go: tabwriter.Init(w, 0, 5, 5, ' ', 0).
const SECRET_TABLE: TabwriterSettings = { minwidth: 0, padding: 5 };

/** What istioctl prints when the dump has a secrets section without a single dynamic secret. */
export const NO_SECRETS_MESSAGE = 'No active or warming secrets found.\n';

/**
 * `istioctl proxy-config secret` (1.24) for these secrets, byte for byte: one row per secret in the given
 * order, describing its first certificate (serial in lowercase hex, RFC 3339 times, VALID CERT at `now`),
 * blank cells when the secret holds no readable certificate.
 */
export function renderSecretsTable(secrets: SecretEntry[], now: Date): string {
  if (secrets.length === 0) return NO_SECRETS_MESSAGE;
  let text = 'RESOURCE NAME\tTYPE\tSTATUS\tVALID CERT\tSERIAL NUMBER\tNOT AFTER\tNOT BEFORE\n';
  for (const s of secrets) {
    const c = s.primary;
    const cells = [
      s.resourceName,
      s.type ?? '',
      s.status,
      String(c ? isCertificateValidAt(c, now) : false),
      c ? formatSerialHex(c.serialNumber) : '',
      c ? rfc3339(c.notAfter) : '',
      c ? rfc3339(c.notBefore) : '',
    ];
    text += `${cells.map(sanitizeForTerminal).join('\t')}\n`;
  }
  return goTabwriter(text, SECRET_TABLE);
}

/** The secrets as JSON (`-o json`): the table's columns plus every certificate's public details. */
export function renderSecretsJson(secrets: SecretEntry[], now: Date): string {
  const rows = secrets.map((s) => ({
    resourceName: s.resourceName,
    type: s.type ?? null,
    status: s.status,
    validCert: s.primary ? isCertificateValidAt(s.primary, now) : false,
    serialNumber: s.primary ? formatSerialHex(s.primary.serialNumber) : null,
    notAfter: s.primary ? rfc3339(s.primary.notAfter) : null,
    notBefore: s.primary ? rfc3339(s.primary.notBefore) : null,
    versionInfo: s.versionInfo ?? null,
    lastUpdated: s.lastUpdated ?? null,
    certificates: s.certificates.map((c) => certificateJson(c, now)),
    problems: s.problems,
  }));
  return `${JSON.stringify(rows, null, 2)}\n`;
}

function certificateJson(c: CertificateInfo, now: Date): Record<string, unknown> {
  return {
    serialNumber: formatSerialHex(c.serialNumber),
    subject: c.subject,
    issuer: c.issuer,
    notBefore: rfc3339(c.notBefore),
    notAfter: rfc3339(c.notAfter),
    validNow: isCertificateValidAt(c, now),
    isCa: c.isCa,
    sanUris: c.sanUris,
    sha256Fingerprint: c.sha256Fingerprint,
    pem: c.pem,
  };
}

// Go's time.RFC3339 of a UTC time: whole seconds and Z.
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
