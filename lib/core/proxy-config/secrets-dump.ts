import { z } from 'zod';
import { parsePemCertificates, type CertificateInfo } from '../certificates/pem.ts';
import type { Evidence } from '../result.ts';
import { noSection, readDump, typeOf, TYPE_PREFIX, type DumpShape } from './dump-root.ts';

// envoy.admin.v3.SecretsConfigDump and the entries of its `?resource=dynamic_*_secrets` answer.
const SECRETS_SECTION = `${TYPE_PREFIX}SecretsConfigDump`;
const DYNAMIC_SECRET = `${TYPE_PREFIX}SecretsConfigDump.DynamicSecret`;

/** istioctl's STATUS column: WARMING for warming secrets, ACTIVE or, before the first push, UNINITIALIZED. */
export type SecretStatus = 'ACTIVE' | 'WARMING' | 'UNINITIALIZED';
/** istioctl's TYPE column, decided by the basic constraints of the first certificate. */
export type SecretType = 'Cert Chain' | 'CA';

/** One dynamic secret Envoy holds (an SDS resource: Istio names them `default` and `ROOTCA`). */
export interface SecretEntry {
  resourceName: string;
  status: SecretStatus;
  /** Undefined when the secret holds no readable certificate (istioctl leaves the column blank). */
  type: SecretType | undefined;
  /** Which part of the secret carried the certificates. */
  kind: 'tls_certificate' | 'validation_context' | 'none';
  versionInfo: string | undefined;
  lastUpdated: string | undefined;
  /** Every readable certificate, in PEM order (the leaf first for a chain). */
  certificates: CertificateInfo[];
  /** The certificate istioctl describes: the first PEM block, when it is a readable certificate. */
  primary: CertificateInfo | undefined;
  /** The trust domain of `primary`: the host of its last `spiffe://` URI SAN (how istioctl 1.25+ reads it). */
  trustDomain: string | undefined;
  /**
   * The bundles of a SPIFFE certificate validator (`validation_context.custom_validator_config`, SPIRE's
   * ROOTCA), one per trust domain, in dump order; read only when the secret has no inline certificate,
   * as istioctl 1.25+ does. Empty otherwise.
   */
  trustBundles: TrustBundle[];
  problems: string[];
}

/** One trust domain of a SPIFFECertValidatorConfig and the CA certificates of its bundle. */
export interface TrustBundle {
  trustDomain: string;
  certificates: CertificateInfo[];
  primary: CertificateInfo | undefined;
}

/** The secrets read from a config dump or a `?resource=dynamic_*_secrets` answer. */
export interface SecretsDump {
  shape: DumpShape;
  secrets: SecretEntry[];
  problems: string[];
  /**
   * The SecretsConfigDump message `-o json|yaml` prints, only when asked for (`keepMessage`): the dump's
   * own, or, for a `?resource=` answer, one holding its entries.
   */
  message?: unknown;
}

export interface SecretsDumpOptions {
  /** Which `?resource=` answer the text is, when it is one: Envoy's DynamicSecret entries do not say. */
  resource?: 'dynamic_active_secrets' | 'dynamic_warming_secrets';
  /** Keep the SecretsConfigDump message; left out otherwise, as an audit holds thousands of dumps at once. */
  keepMessage?: boolean;
}

// envoy.config.core.v3.DataSource. Only the declared fields are read: z.object drops the rest, and the
// private key (`tls_certificate.private_key`, "[redacted]" by Envoy) is never declared, read or kept.
const DataSourceSchema = z.object({ inline_bytes: z.string().optional(), inline_string: z.string().optional() });
// envoy.extensions.transport_sockets.tls.v3.Secret
const TlsSecretSchema = z.object({
  tls_certificate: z.object({ certificate_chain: DataSourceSchema.optional() }).optional(),
  validation_context: z
    .object({
      trusted_ca: DataSourceSchema.optional(),
      custom_validator_config: z.object({ typed_config: z.unknown().optional() }).optional(),
    })
    .optional(),
});
// envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig, the validator SPIRE hands Envoy.
const SPIFFE_VALIDATOR = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig';
const SpiffeValidatorSchema = z.object({
  '@type': z.literal(SPIFFE_VALIDATOR),
  trust_domains: z.array(z.object({ name: z.string().optional(), trust_bundle: DataSourceSchema.optional() }).catch({})).optional(),
});
// envoy.admin.v3.SecretsConfigDump.DynamicSecret
const DynamicSecretSchema = z.object({
  name: z.string(),
  version_info: z.string().optional(),
  last_updated: z.string().optional(),
  secret: z.unknown().optional(),
});
const SecretsSectionSchema = z.object({
  dynamic_active_secrets: z.array(z.unknown()).optional(),
  dynamic_warming_secrets: z.array(z.unknown()).optional(),
});

/**
 * Parses the secrets of an Envoy config dump, or of a `?resource=dynamic_active_secrets` /
 * `dynamic_warming_secrets` answer. Warming secrets come first, then active ones, each in dump order, as
 * istioctl lists them. Never throws.
 */
export function parseSecretsDump(text: string, options: SecretsDumpOptions = {}): Evidence<SecretsDump> {
  const root = readDump(text, 'secrets');
  if (!root.ok) return root;
  const problems: string[] = [];
  const { configs, bare } = root.value;
  let section: unknown;
  if (configs) {
    section = configs.findLast((c) => typeOf(c) === SECRETS_SECTION);
    if (section === undefined) {
      const entries = configs.filter((c) => typeOf(c) === DYNAMIC_SECRET);
      if (entries.length === 0) {
        return noSection(configs, 'SecretsConfigDump', 'secrets') ?? { ok: true, value: { shape: 'empty', secrets: [], problems } };
      }
      const status: SecretStatus = options.resource === 'dynamic_warming_secrets' ? 'WARMING' : 'ACTIVE';
      const secrets = readSecrets(entries, status, `${options.resource ?? 'resource'} entry`, problems);
      // In a SecretsConfigDump the entries are plain messages, not Anys.
      const message = () => ({ [options.resource ?? 'dynamic_active_secrets']: entries.map(withoutType) });
      return { ok: true, value: { shape: 'resource', secrets, problems, ...(options.keepMessage ? { message: message() } : {}) } };
    }
  } else if (bare && ('dynamic_active_secrets' in bare || 'dynamic_warming_secrets' in bare || typeOf(bare) === SECRETS_SECTION)) {
    section = bare;
  } else if (bare && Object.keys(bare).length === 0) {
    return { ok: true, value: { shape: 'empty', secrets: [], problems } };
  } else {
    return { ok: false, reason: 'is not an Envoy config dump: it has no "configs" list' };
  }
  const parsed = SecretsSectionSchema.safeParse(section);
  if (!parsed.success) return { ok: false, reason: 'has a SecretsConfigDump without the expected shape' };
  const secrets = [
    ...readSecrets(parsed.data.dynamic_warming_secrets ?? [], 'WARMING', 'dynamic_warming_secrets entry', problems),
    ...readSecrets(parsed.data.dynamic_active_secrets ?? [], 'ACTIVE', 'dynamic_active_secrets entry', problems),
  ];
  return { ok: true, value: { shape: 'config-dump', secrets, problems, ...(options.keepMessage ? { message: section } : {}) } };
}

function readSecrets(items: unknown[], status: SecretStatus, what: string, problems: string[]): SecretEntry[] {
  const secrets: SecretEntry[] = [];
  items.forEach((item, i) => {
    const parsed = DynamicSecretSchema.safeParse(item);
    if (!parsed.success) {
      problems.push(`${what} ${i + 1} has no name: skipped`);
      return;
    }
    secrets.push(readSecret(parsed.data, status));
  });
  return secrets;
}

function readSecret(entry: z.infer<typeof DynamicSecretSchema>, status: SecretStatus): SecretEntry {
  const problems: string[] = [];
  // istioctl (writer/compare/sds) marks an active secret Envoy has not received yet by this version_info.
  const effective: SecretStatus = status === 'ACTIVE' && entry.version_info === 'uninitialized' ? 'UNINITIALIZED' : status;
  const base = {
    resourceName: entry.name,
    status: effective,
    versionInfo: entry.version_info,
    lastUpdated: entry.last_updated,
  };
  const secret = TlsSecretSchema.safeParse(entry.secret ?? {});
  if (!secret.success) {
    problems.push('the secret does not have the Secret shape');
    return {
      ...base,
      type: undefined,
      kind: 'none',
      certificates: [],
      primary: undefined,
      trustDomain: undefined,
      trustBundles: [],
      problems,
    };
  }
  // istioctl reads the certificate chain when it is not empty, the trusted CA otherwise.
  const chain = secret.data.tls_certificate?.certificate_chain;
  const trusted = secret.data.validation_context?.trusted_ca;
  const chainPem = dataSourceText(chain, problems);
  const kind = chainPem ? 'tls_certificate' : dataSourceText(trusted, []) ? 'validation_context' : 'none';
  const pem = chainPem || dataSourceText(trusted, problems);
  if (!pem) {
    const trustBundles = spiffeTrustBundles(secret.data.validation_context?.custom_validator_config?.typed_config, problems);
    if (trustBundles.length === 0) problems.push('the secret holds no inline certificate');
    return { ...base, type: undefined, kind, certificates: [], primary: undefined, trustDomain: undefined, trustBundles, problems };
  }
  const read = parsePemCertificates(pem);
  problems.push(...read.problems);
  const type: SecretType | undefined = read.primary ? (read.primary.isCa ? 'CA' : 'Cert Chain') : undefined;
  return {
    ...base,
    type,
    kind,
    certificates: read.certificates,
    primary: read.primary,
    trustDomain: spiffeTrustDomain(read.primary),
    trustBundles: [],
    problems,
  };
}

function spiffeTrustBundles(typedConfig: unknown, problems: string[]): TrustBundle[] {
  const parsed = SpiffeValidatorSchema.safeParse(typedConfig);
  if (!parsed.success) return [];
  return (parsed.data.trust_domains ?? []).map((domain, i) => {
    const pem = dataSourceText(domain.trust_bundle, problems);
    const read = pem
      ? parsePemCertificates(pem)
      : { certificates: [], primary: undefined, problems: [`trust domain ${i + 1} has no inline bundle`] };
    problems.push(...read.problems);
    return { trustDomain: domain.name ?? '', certificates: read.certificates, primary: read.primary };
  });
}

// Go's url.Parse host of a `spiffe://<trust domain>/<path>` URI; the last such SAN wins, as in istioctl.
function spiffeTrustDomain(certificate: CertificateInfo | undefined): string | undefined {
  let domain: string | undefined;
  for (const uri of certificate?.sanUris ?? []) {
    const m = /^spiffe:\/\/(?<host>[^/?#]*)/i.exec(uri)?.groups;
    if (m?.host !== undefined) domain = m.host.replace(/^[^@]*@/, '');
  }
  return domain;
}

// proto3 JSON writes `bytes` as base64 (standard or URL-safe, padded or not).
function dataSourceText(source: z.infer<typeof DataSourceSchema> | undefined, problems: string[]): string {
  if (!source) return '';
  if (source.inline_bytes) {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(source.inline_bytes)) {
      problems.push('inline_bytes is not base64');
      return '';
    }
    return Buffer.from(source.inline_bytes, 'base64').toString('latin1');
  }
  return source.inline_string ?? '';
}

function withoutType(entry: unknown): unknown {
  return Object.fromEntries(Object.entries(entry as Record<string, unknown>).filter(([key]) => key !== '@type'));
}
