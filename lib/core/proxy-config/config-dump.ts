import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import type { Evidence } from '../result.ts';

/*
 * Envoy's admin `/config_dump` (envoy.admin.v3.ConfigDump, api/envoy/admin/v3/config_dump.proto): `configs`
 * is a list of Any, one per section (`…admin.v3.ClustersConfigDump`, `…admin.v3.SecretsConfigDump`, …).
 * With `?resource=<field>` Envoy answers with the entries of that one field instead, each an Any of the
 * entry message (`…SecretsConfigDump.DynamicSecret`, `…ClustersConfigDump.DynamicCluster`,
 * `…ClustersConfigDump.StaticCluster`), and `{}` when there is none. With `&mask=` Envoy trims each entry
 * to the masked fields, and proto3 JSON leaves out default values (a STATIC cluster has no `type`).
 * Several sections of one type: the last wins, as istioctl's configdump wrapper reads them.
 */

const TYPE_PREFIX = 'type.googleapis.com/envoy.admin.v3.';
const SECRETS_SECTION = `${TYPE_PREFIX}SecretsConfigDump`;
const DYNAMIC_SECRET = `${TYPE_PREFIX}SecretsConfigDump.DynamicSecret`;
const CLUSTERS_SECTION = `${TYPE_PREFIX}ClustersConfigDump`;
const DYNAMIC_CLUSTER = `${TYPE_PREFIX}ClustersConfigDump.DynamicCluster`;
const STATIC_CLUSTER = `${TYPE_PREFIX}ClustersConfigDump.StaticCluster`;

const ConfigDumpSchema = z.object({ configs: z.array(z.unknown()).optional() });
const TypedSchema = z.object({ '@type': z.string() });

/** How the input was shaped: a full config dump, a `?resource=` answer, or one that holds nothing. */
export type DumpShape = 'config-dump' | 'resource' | 'empty';

// ---------------------------------------------------------------------------------------------------
// Certificates

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

function readCertificate(body: string): CertificateInfo | undefined {
  // RFC 7468 allows headers before the base64 text (RFC 1421 style); a header line holds a colon.
  const base64 = body.split(/\r?\n/).filter((line) => !line.includes(':')).join('').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
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
  return (dn ?? '').split('\n').filter((rdn) => rdn !== '').join(', ');
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

// ---------------------------------------------------------------------------------------------------
// Secrets

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
  problems: string[];
}

/** The secrets read from a config dump or a `?resource=dynamic_*_secrets` answer. */
export interface SecretsDump {
  shape: DumpShape;
  secrets: SecretEntry[];
  problems: string[];
}

/** Which `?resource=` answer the text is, when it is one: Envoy's DynamicSecret entries do not say. */
export interface SecretsDumpOptions {
  resource?: 'dynamic_active_secrets' | 'dynamic_warming_secrets';
}

// envoy.config.core.v3.DataSource. Only the declared fields are read: z.object drops the rest, and the
// private key (`tls_certificate.private_key`, "[redacted]" by Envoy) is never declared, read or kept.
const DataSourceSchema = z.object({ inline_bytes: z.string().optional(), inline_string: z.string().optional() });
// envoy.extensions.transport_sockets.tls.v3.Secret
const TlsSecretSchema = z.object({
  tls_certificate: z.object({ certificate_chain: DataSourceSchema.optional() }).optional(),
  validation_context: z.object({ trusted_ca: DataSourceSchema.optional() }).optional(),
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
      return { ok: true, value: { shape: 'resource', secrets, problems } };
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
  return { ok: true, value: { shape: 'config-dump', secrets, problems } };
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
    return { ...base, type: undefined, kind: 'none', certificates: [], primary: undefined, problems };
  }
  // istioctl reads the certificate chain when it is not empty, the trusted CA otherwise.
  const chain = secret.data.tls_certificate?.certificate_chain;
  const trusted = secret.data.validation_context?.trusted_ca;
  const chainPem = dataSourceText(chain, problems);
  const kind = chainPem ? 'tls_certificate' : dataSourceText(trusted, []) ? 'validation_context' : 'none';
  const pem = chainPem || dataSourceText(trusted, problems);
  if (!pem) {
    problems.push('the secret holds no inline certificate');
    return { ...base, type: undefined, kind, certificates: [], primary: undefined, problems };
  }
  const read = parsePemCertificates(pem);
  problems.push(...read.problems);
  const type: SecretType | undefined = read.primary ? (read.primary.isCa ? 'CA' : 'Cert Chain') : undefined;
  return { ...base, type, kind, certificates: read.certificates, primary: read.primary, problems };
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

// ---------------------------------------------------------------------------------------------------
// Clusters

/** Where Envoy holds a cluster: dynamic active, dynamic warming (waiting for its endpoints), or static. */
export type ClusterState = 'active' | 'warming' | 'static';

/** One Envoy cluster with the columns istioctl's `proxy-config clusters` derives from its name. */
export interface ClusterEntry {
  name: string;
  /** Envoy's discovery type as istioctl prints it; STATIC when the dump leaves it out (the proto3 default). */
  type: string;
  /** The extension of a custom cluster type (`cluster_type.name`, e.g. envoy.clusters.aggregate). */
  customType: string | undefined;
  state: ClusterState;
  /** Whether the name is an Istio subset key (`direction|port|subset|hostname`). */
  isSubsetKey: boolean;
  /** SERVICE FQDN: the hostname of a subset key, the whole name otherwise. */
  serviceFqdn: string;
  /** PORT of a subset key (0 when not a number, as istioctl reads it); undefined otherwise. */
  port: number | undefined;
  /** SUBSET of a subset key ('' when none); undefined otherwise. */
  subset: string | undefined;
  /** DIRECTION of a subset key (outbound, inbound, inbound-vip, …); undefined otherwise. */
  direction: string | undefined;
  /** DESTINATION RULE: `<name>.<namespace>` from the cluster's Istio metadata, '' when none. */
  destinationRule: string;
  versionInfo: string | undefined;
  lastUpdated: string | undefined;
}

/** The clusters read from a config dump or a `?resource=` answer. */
export interface ClustersDump {
  shape: DumpShape;
  clusters: ClusterEntry[];
  problems: string[];
}

/** Which `?resource=` answer the text is, when it is one: Envoy's DynamicCluster entries do not say. */
export interface ClustersDumpOptions {
  resource?: 'dynamic_active_clusters' | 'dynamic_warming_clusters';
}

// envoy.config.cluster.v3.Cluster, the fields istioctl's cluster table reads.
const ClusterSchema = z.object({
  name: z.string(),
  type: z.union([z.string(), z.number()]).optional(),
  cluster_type: z.object({ name: z.string().optional() }).optional(),
  metadata: z.object({ filter_metadata: z.record(z.string(), z.unknown()).optional() }).optional(),
});
// envoy.admin.v3.ClustersConfigDump.{Static,Dynamic}Cluster
const ClusterEntrySchema = z.object({
  version_info: z.string().optional(),
  last_updated: z.string().optional(),
  cluster: z.unknown(),
});
const ClustersSectionSchema = z.object({
  static_clusters: z.array(z.unknown()).optional(),
  dynamic_active_clusters: z.array(z.unknown()).optional(),
  dynamic_warming_clusters: z.array(z.unknown()).optional(),
});

// envoy.config.cluster.v3.Cluster.DiscoveryType, for a dump that spells the enum as a number.
const DISCOVERY_TYPES = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'];

/**
 * Parses the clusters of an Envoy config dump (static, dynamic active and dynamic warming), or of a
 * `?resource=dynamic_active_clusters&mask=cluster.name,cluster.type` answer, in dump order. Never throws.
 */
export function parseClustersDump(text: string, options: ClustersDumpOptions = {}): Evidence<ClustersDump> {
  const root = readDump(text, 'clusters');
  if (!root.ok) return root;
  const problems: string[] = [];
  const { configs, bare } = root.value;
  let section: unknown;
  if (configs) {
    section = configs.findLast((c) => typeOf(c) === CLUSTERS_SECTION);
    if (section === undefined) {
      const dynamicState: ClusterState = options.resource === 'dynamic_warming_clusters' ? 'warming' : 'active';
      const clusters: ClusterEntry[] = [];
      configs.forEach((c, i) => {
        const type = typeOf(c);
        if (type === DYNAMIC_CLUSTER || type === STATIC_CLUSTER) {
          const state = type === STATIC_CLUSTER ? 'static' : dynamicState;
          pushCluster(clusters, c, state, `configs entry ${i + 1}`, problems);
        }
      });
      if (clusters.length === 0 && problems.length === 0) {
        return noSection(configs, 'ClustersConfigDump', 'clusters') ?? { ok: true, value: { shape: 'empty', clusters: [], problems } };
      }
      return { ok: true, value: { shape: 'resource', clusters, problems } };
    }
  } else if (bare && ('static_clusters' in bare || 'dynamic_active_clusters' in bare || 'dynamic_warming_clusters' in bare || typeOf(bare) === CLUSTERS_SECTION)) {
    section = bare;
  } else if (bare && Object.keys(bare).length === 0) {
    return { ok: true, value: { shape: 'empty', clusters: [], problems } };
  } else {
    return { ok: false, reason: 'is not an Envoy config dump: it has no "configs" list' };
  }
  const parsed = ClustersSectionSchema.safeParse(section);
  if (!parsed.success) return { ok: false, reason: 'has a ClustersConfigDump without the expected shape' };
  const clusters: ClusterEntry[] = [];
  const lists: [keyof typeof parsed.data, ClusterState][] = [
    ['static_clusters', 'static'],
    ['dynamic_active_clusters', 'active'],
    ['dynamic_warming_clusters', 'warming'],
  ];
  for (const [field, state] of lists) {
    (parsed.data[field] ?? []).forEach((item, i) => pushCluster(clusters, item, state, `${field} entry ${i + 1}`, problems));
  }
  return { ok: true, value: { shape: 'config-dump', clusters, problems } };
}

function pushCluster(clusters: ClusterEntry[], item: unknown, state: ClusterState, what: string, problems: string[]): void {
  const entry = ClusterEntrySchema.safeParse(item);
  const cluster = entry.success ? ClusterSchema.safeParse(entry.data.cluster) : undefined;
  if (!entry.success || !cluster?.success) {
    problems.push(`${what} has no cluster name: skipped`);
    return;
  }
  const c = cluster.data;
  const key = parseClusterName(c.name);
  // istioctl prints Cluster.GetType(), which is STATIC (the zero value) for a custom cluster type too.
  const type = c.cluster_type ? 'STATIC' : typeof c.type === 'number' ? (DISCOVERY_TYPES[c.type] ?? String(c.type)) : (c.type ?? 'STATIC');
  clusters.push({
    name: c.name,
    type,
    customType: c.cluster_type?.name,
    state,
    ...key,
    destinationRule: destinationRuleOf(c.metadata?.filter_metadata),
    versionInfo: entry.data.version_info,
    lastUpdated: entry.data.last_updated,
  });
}

/** The columns istioctl derives from a cluster name. */
export type ClusterNameParts = Pick<ClusterEntry, 'isSubsetKey' | 'serviceFqdn' | 'port' | 'subset' | 'direction'>;

/**
 * Splits a cluster name as istioctl's cluster table does: a name with at least three `|` is an Istio subset
 * key `direction|port|subset|hostname` (pilot/pkg/model BuildSubsetKey; `outbound_.port_.subset_.hostname`
 * when it starts with `outbound_` or `inbound_`), read field by field; any other name is shown whole.
 */
export function parseClusterName(name: string): ClusterNameParts {
  if (name.split('|').length <= 3) {
    return { isSubsetKey: false, serviceFqdn: name, port: undefined, subset: undefined, direction: undefined };
  }
  const separator = /^(?:outbound|inbound)_/.test(name) ? '_.' : '|';
  const parts: ClusterNameParts = { isSubsetKey: true, serviceFqdn: '', port: 0, subset: '', direction: '' };
  const [direction, afterDirection] = cut(name, separator);
  if (afterDirection === undefined) return parts;
  parts.direction = direction;
  const [port, afterPort] = cut(afterDirection, separator);
  if (afterPort === undefined) return parts;
  parts.port = goAtoi(port);
  const [subset, hostname] = cut(afterPort, separator);
  if (hostname === undefined) return parts;
  parts.subset = subset;
  if (!hostname.includes(separator)) parts.serviceFqdn = hostname;
  return parts;
}

function cut(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

// Go's strconv.Atoi with the error ignored: a signed decimal, 0 for anything else.
function goAtoi(text: string): number {
  const m = /^(?<number>[+-]?\d+)$/.exec(text)?.groups;
  const value = m?.number === undefined ? 0 : Number(m.number);
  return Number.isSafeInteger(value) ? value : 0;
}

// Istio stamps the DestinationRule a cluster came from into filter_metadata.istio.config as
// /apis/networking.istio.io/v1alpha3/namespaces/<ns>/destination-rule/<name>; istioctl shows <name>.<ns>,
// '' without it, and <unknown> for any other value.
const DESTINATION_RULE_PATH = /^\/apis\/networking\.istio\.io\/v1alpha3\/namespaces\/(?<namespace>[^/]*)\/(?<kind>[^/]*)\/(?<name>[^/]*)$/;

function destinationRuleOf(filterMetadata: Record<string, unknown> | undefined): string {
  const istio = filterMetadata?.istio;
  if (typeof istio !== 'object' || istio === null || !('config' in istio)) return '';
  const config = typeof istio.config === 'string' ? istio.config : '';
  if (!config.startsWith('/apis/networking.istio.io/v1alpha3/namespaces/')) return '<unknown>';
  const m = DESTINATION_RULE_PATH.exec(config)?.groups;
  return m ? `${m.name}.${m.namespace}` : '';
}

// ---------------------------------------------------------------------------------------------------
// Shared

type DumpRoot = { configs: unknown[]; bare?: undefined } | { configs?: undefined; bare: Record<string, unknown> };

function readDump(text: string, what: string): Evidence<DumpRoot> {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    const blank = text.trim() === '';
    return { ok: false, reason: blank ? `is empty: no ${what} to read` : 'is not JSON (cut short, or not a config dump)' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'is not an Envoy config dump: the JSON is not an object' };
  }
  if (!('configs' in json)) return { ok: true, value: { bare: json as Record<string, unknown> } };
  const parsed = ConfigDumpSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'is not an Envoy config dump: "configs" is not a list' };
  return { ok: true, value: { configs: parsed.data.configs ?? [] } };
}

function typeOf(value: unknown): string | undefined {
  const parsed = TypedSchema.safeParse(value);
  return parsed.success ? parsed.data['@type'] : undefined;
}

// An empty `configs` is Envoy's answer when there is nothing of the kind; other sections alone are not.
function noSection(configs: unknown[], section: string, what: string): { ok: false; reason: string } | undefined {
  if (configs.length === 0) return undefined;
  const types = [...new Set(configs.map((c) => typeOf(c)?.replace(TYPE_PREFIX, '') ?? '(untyped)'))];
  return { ok: false, reason: `holds no ${what}: no ${section} among its configs (${types.join(', ')})` };
}
