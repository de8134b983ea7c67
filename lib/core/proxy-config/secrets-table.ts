import { goTabwriter, type TabwriterSettings } from '../render/go-tabwriter.ts';
import { sanitizeForTerminal } from '../render/text.ts';
import { formatSerialHex, isCertificateValidAt, type CertificateInfo } from '../certificates/pem.ts';
import { isAtLeast, NEWEST_ISTIOCTL_VERSION, type IstioctlVersion } from '../istioctl-version.ts';
import type { SecretEntry, SecretType } from './secrets-dump.ts';

// istioctl/pkg/writer/compare/sds/writer.go: tabwriter.Init(w, 0, 5, 5, ' ', 0).
const SECRET_TABLE: TabwriterSettings = { minwidth: 0, padding: 5 };

/** What istioctl prints when the dump has a secrets section without a single dynamic secret. */
export const NO_SECRETS_MESSAGE = 'No active or warming secrets found.\n';

/** Rendering choices of the secret table. */
export interface SecretsTableOptions {
  /** The istioctl release whose layout is printed (default: the newest supported). */
  version?: IstioctlVersion;
  /** Names each secret `secret/<name>`, as `istioctl proxy-config all` does. */
  withConfigType?: boolean;
}

/** One printed row: a secret, or from 1.25 on one trust domain of a SPIFFE validator secret. */
interface SecretRow {
  secret: SecretEntry;
  certificate: CertificateInfo | undefined;
  type: SecretType | undefined;
  /** '' when unknown: istioctl knows it only from a read certificate. */
  trustDomain: string;
}

/**
 * `istioctl proxy-config secret` for these secrets, byte for byte, in the layout of `version`: one row per
 * secret in the given order describing its first certificate (RFC 3339 times, VALID CERT at `now`), blank
 * cells when it holds no readable certificate.
 * - 1.24: `RESOURCE NAME … NOT BEFORE`; the serial in lowercase hex (Go `%x`).
 * - 1.25+: a secret with no inline certificate but a SPIFFE validator (SPIRE's ROOTCA) gives one row per
 *   trust domain, and a TRUST DOMAIN column is added when every row's trust domain is known (from the
 *   validator, or the `spiffe://` URI SAN of the certificate).
 * - 1.29+: the serial is zero-padded to 32 hex digits (Go `%032x`).
 * Where istioctl 1.25+ hides the truth this table does not follow it: an active secret Envoy has not
 * received (`version_info: uninitialized`) stays UNINITIALIZED (istioctl 1.25+ prints ACTIVE), and a
 * secret without any certificate keeps its blank row (istioctl 1.25.x leaves it out).
 */
export function renderSecretsTable(secrets: SecretEntry[], now: Date, options: SecretsTableOptions = {}): string {
  if (secrets.length === 0) return NO_SECRETS_MESSAGE;
  const version = options.version ?? NEWEST_ISTIOCTL_VERSION;
  const rows = secrets.flatMap((s) => secretRows(s, version));
  const withTrustDomain = isAtLeast(version, '1.25') && rows.every((r) => r.trustDomain !== '');
  const header = [
    'RESOURCE NAME',
    'TYPE',
    'STATUS',
    'VALID CERT',
    'SERIAL NUMBER',
    'NOT AFTER',
    'NOT BEFORE',
    ...(withTrustDomain ? ['TRUST DOMAIN'] : []),
  ];
  let text = `${header.join('\t')}\n`;
  for (const { secret, certificate: c, type, trustDomain } of rows) {
    const cells = [
      options.withConfigType ? `secret/${secret.resourceName}` : secret.resourceName,
      type ?? '',
      secret.status,
      String(c ? isCertificateValidAt(c, now) : false),
      c ? formatSerial(c.serialNumber, version) : '',
      c ? rfc3339(c.notAfter) : '',
      c ? rfc3339(c.notBefore) : '',
      ...(withTrustDomain ? [trustDomain] : []),
    ];
    text += `${cells.map(sanitizeForTerminal).join('\t')}\n`;
  }
  return goTabwriter(text, SECRET_TABLE);
}

function secretRows(secret: SecretEntry, version: IstioctlVersion): SecretRow[] {
  const spiffe = isAtLeast(version, '1.25') && secret.primary === undefined && secret.kind === 'none' && secret.trustBundles.length > 0;
  if (!spiffe) {
    return [{ secret, certificate: secret.primary, type: secret.type, trustDomain: (secret.primary && secret.trustDomain) || '' }];
  }
  return secret.trustBundles.map((b) => ({
    secret,
    certificate: b.primary,
    type: b.primary ? (b.primary.isCa ? 'CA' : 'Cert Chain') : undefined,
    // istioctl keeps the validator's trust domain only beside a certificate it could read.
    trustDomain: b.primary ? b.trustDomain : '',
  }));
}

// Go's `%x` (1.24–1.28) or `%032x` (1.29+) of a big.Int: the sign counts toward the width.
function formatSerial(serial: bigint, version: IstioctlVersion): string {
  const hex = formatSerialHex(serial);
  if (!isAtLeast(version, '1.29')) return hex;
  const sign = hex.startsWith('-') ? '-' : '';
  return sign + hex.slice(sign.length).padStart(32 - sign.length, '0');
}

// Go's time.RFC3339 of a UTC time: whole seconds and Z.
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
