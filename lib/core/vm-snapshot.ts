import { splitDiagnosticOutput, type Section, type SectionMeta } from './diagnostic-output.ts';
import { parseClusterEnv } from './parsers/key-value.ts';
import { parseEnvoyServerInfo, type EnvoyServerInfo } from './parsers/envoy-server-info.ts';
import { parseIdentity, type Identity } from './parsers/identity.ts';
import { parseReadiness, type Readiness } from './parsers/readiness.ts';
import { parseSystemdShow, type UnitState } from './parsers/systemd-show.ts';
import { parseCertsListing, type CertsListing } from './parsers/certs-listing.ts';
import { parseEnvoyStats } from './parsers/envoy-stats.ts';
import { parseIptablesSave, parseRule, type IptablesRuleset, type RuleSource } from './parsers/iptables-save.ts';
import { parseNftList, type NftRuleset } from './parsers/nft-list.ts';
import { parseIstioToken, type IstioToken } from './parsers/istio-token.ts';
import { parseLogsSummary, type LogsSummary } from './parsers/logs-summary.ts';
import { parsePemCertificates, type CertificateInfo } from './certificates/pem.ts';
import { parseClustersDump, type ClusterEntry } from './proxy-config/clusters-dump.ts';
import { parseOutboundHealth, type OutboundHealth } from './proxy-config/outbound-health.ts';
import { parseSecretsDump, type SecretEntry } from './proxy-config/secrets-dump.ts';
import { parseVersions, type InstalledVersions } from './parsers/versions.ts';
import { EMPTY_MESH_CONFIG, parseMeshConfig, type VmMeshConfig } from './parsers/mesh-config.ts';
import { parseHostsPins, type HostsPin } from './parsers/hosts-pins.ts';
import type { Evidence } from './result.ts';
import { effectiveEnvironment } from './effective-environment.ts';
import type { SnapshotPool } from './snapshot-pool.ts';

/** The iptables sections, one per save tool (docs/diagnostic-output.md). */
export const IPTABLES_SECTIONS = [
  'iptables-save',
  'iptables-legacy-save',
  'iptables-nft-save',
  'ip6tables-save',
  'ip6tables-legacy-save',
  'ip6tables-nft-save',
] as const;
export type IptablesSection = (typeof IPTABLES_SECTIONS)[number];

/** One iptables backend as the VM showed it: its rules, or why they cannot be read, or that the tool is absent. */
export interface IptablesBackend {
  section: IptablesSection;
  /** The save tool is not installed on the VM (normal for the backend a distribution does not use). */
  absent: boolean;
  ruleset: Evidence<IptablesRuleset>;
}

/** Everything read from one VM's diagnostic output, each part available or with the reason it is not. */
export interface VmSnapshot {
  formatVersion: number | undefined;
  /** Whether the output as a whole was readable as diagnostic output. */
  readable: boolean;
  truncated: boolean;
  problems: string[];
  sections: Map<string, SectionMeta>;
  /** Sections present and whole that could not be read: larger than the script prints, or not in their format. */
  unparseable: string[];
  identity: Evidence<Identity>;
  unit: Evidence<UnitState>;
  readiness: Evidence<Readiness>;
  /**
   * The environment istio-start.sh gives the agent: `sidecar.env` sourced first, then `cluster.env` over
   * it, so a variable set in both has its cluster.env value and one set only in sidecar.env counts.
   */
  clusterEnv: Evidence<Map<string, string>>;
  /** /etc/istio/config/mesh as far as the audit reads it; an absent file sets nothing (the agent's defaults apply). */
  meshConfig: Evidence<VmMeshConfig>;
  /** The /etc/hosts lines that pin istiod-like names or the discovery host; an absent file pins nothing. */
  hostsPins: Evidence<HostsPin[]>;
  serverInfo: Evidence<EnvoyServerInfo>;
  /** The logs section as the VM reduced it (pattern counts and the latest matching lines). */
  logText: string | undefined;
  stats: Evidence<Map<string, number>>;
  logs: Evidence<LogsSummary>;
  iptables: IptablesBackend[];
  /**
   * Istio's native nftables tables (`nft list table inet istio-proxy-*`); undefined when the VM printed
   * no nftables section (no `nft` installed, or a script that did not collect it).
   */
  nftables: Evidence<NftRuleset> | undefined;
  certs: Evidence<CertsListing>;
  certChain: Evidence<CertificateInfo[]>;
  rootCert: Evidence<CertificateInfo[]>;
  token: Evidence<IstioToken>;
  versions: Evidence<InstalledVersions>;
  /** Envoy's dynamic secrets, active and warming (`/config_dump?resource=dynamic_*_secrets`). */
  secrets: Evidence<SecretEntry[]>;
  /** Envoy's dynamic clusters, active and warming (`/config_dump?resource=dynamic_*_clusters`). */
  clusters: Evidence<ClusterEntry[]>;
  /** The health of the outbound clusters' endpoints (`/clusters?format=json`), reduced to what XDS-06 reads. */
  outboundHealth: Evidence<OutboundHealth>;
}

/**
 * Parses one VM's complete diagnostic output. Never throws: what cannot be read is an unavailable part.
 * The snapshot shares no memory with `output` (see detached below), so the output can be dropped once read.
 * With a pool, the parts this VM has in common with others already read are the pool's (snapshot-pool.ts).
 */
export function parseVmSnapshot(output: string, pool?: SnapshotPool): VmSnapshot {
  if (!pool) return detached(readSnapshot(output, parseRule));
  const snapshot = readSnapshot(output, (table, line) => pool.rule(table, line));
  // The pool's rules share nothing with the output: they are set aside while the rest is copied.
  const rules = snapshot.iptables.map((backend) => (backend.ruleset.ok ? backend.ruleset.value.rules : []));
  for (const backend of snapshot.iptables) if (backend.ruleset.ok) backend.ruleset.value.rules = [];
  const copy = detached(snapshot);
  copy.iptables.forEach((backend, i) => {
    if (backend.ruleset.ok) backend.ruleset.value.rules = rules[i]!;
  });
  return pooled(copy, pool);
}

/** The snapshot with its chains, certificates and sections swapped for the pool's equal ones. */
function pooled(snapshot: VmSnapshot, pool: SnapshotPool): VmSnapshot {
  snapshot.sections = pool.sections(snapshot.sections);
  for (const backend of snapshot.iptables) if (backend.ruleset.ok) backend.ruleset.value.chains = pool.chains(backend.ruleset.value.chains);
  const certificates = (list: CertificateInfo[]): CertificateInfo[] => list.map((c) => pool.certificate(c));
  const certificate = (c: CertificateInfo | undefined): CertificateInfo | undefined => c && pool.certificate(c);
  if (snapshot.certChain.ok) snapshot.certChain = { ok: true, value: certificates(snapshot.certChain.value) };
  if (snapshot.rootCert.ok) snapshot.rootCert = { ok: true, value: certificates(snapshot.rootCert.value) };
  if (snapshot.secrets.ok) {
    for (const secret of snapshot.secrets.value) {
      secret.certificates = certificates(secret.certificates);
      secret.primary = certificate(secret.primary);
      for (const bundle of secret.trustBundles) {
        bundle.certificates = certificates(bundle.certificates);
        bundle.primary = certificate(bundle.primary);
      }
    }
  }
  return snapshot;
}

function readSnapshot(output: string, rules: RuleSource): VmSnapshot {
  const split = splitDiagnosticOutput(output);
  const readable = split.version !== undefined && split.sections.size > 0;
  const whyNot = split.problems[0] ?? 'the output holds no sections';
  const unparseable = new Set<string>();
  const parseChecked = <T>(section: Section | undefined, name: string, parse: (content: string) => Evidence<T>): Evidence<T> => {
    const parsed = parseSection(section, name, parse);
    // Unreadable: larger than the script prints, or a command that succeeded but printed something else.
    // A failed command (Envoy down, a file absent) is the controls' to judge, not a collection problem.
    if (!parsed.ok && section && !section.cut && (section.rc === 0 || section.content.length > (SECTION_LIMITS[name] ?? Infinity)))
      unparseable.add(name);
    return parsed;
  };
  const part = <T>(
    name: string,
    parse: (content: string) => Evidence<T>,
    options: { rcMustBeZero?: string; absentFile?: T } = {},
  ): Evidence<T> => {
    if (!readable) return { ok: false, reason: whyNot };
    const section = split.sections.get(name);
    // A file the VM does not have is a value of its own where the file is optional.
    if (options.absentFile !== undefined && section && isAbsentFile(section)) return { ok: true, value: options.absentFile };
    // A file section's rc is not 0 when the file is absent: an empty cluster.env is not the same as none.
    if (options.rcMustBeZero && section && !section.cut && section.rc !== 0)
      return { ok: false, reason: `${options.rcMustBeZero} (section ${name} rc ${section.rc})` };
    return parseChecked(section, name, parse);
  };
  const sections = new Map<string, SectionMeta>();
  for (const [name, s] of split.sections) sections.set(name, { rc: s.rc, cut: s.cut, missing: s.missing });
  const snapshot: Omit<VmSnapshot, 'unparseable'> = {
    formatVersion: split.version,
    readable,
    truncated: split.truncated,
    problems: split.problems,
    sections,
    identity: part('identity', parseIdentity),
    unit: part('systemd', parseSystemdShow),
    readiness: part('readiness', parseReadiness),
    clusterEnv: mergedEnvironment(
      part('cluster-env', (text) => ({ ok: true, value: parseClusterEnv(text) }), { rcMustBeZero: 'cluster.env could not be read' }),
      readable ? sidecarEnv(split.sections.get('sidecar-env'), split.truncated, parseChecked) : undefined,
    ),
    meshConfig: part('mesh-config', parseMeshConfig, { absentFile: EMPTY_MESH_CONFIG }),
    hostsPins: part('hosts', parseHostsPins, { absentFile: [] }),
    serverInfo: part('envoy-server-info', parseEnvoyServerInfo),
    logText: readable ? split.sections.get('logs')?.content.slice(0, SECTION_LIMITS.logs) : undefined,
    stats: part('envoy-stats', parseEnvoyStats),
    logs: part('logs', parseLogsSummary),
    iptables: readable
      ? IPTABLES_SECTIONS.filter((name) => split.sections.has(name)).map((name) =>
          iptablesBackend(split.sections.get(name)!, name, (text) => parseIptablesSave(text, rules), parseChecked),
        )
      : [],
    nftables:
      readable && split.sections.has('nftables') ? parseChecked(split.sections.get('nftables'), 'nftables', parseNftList) : undefined,
    certs: part('certs', parseCertsListing),
    certChain: part('cert-chain-pem', pemBundle),
    rootCert: part('root-cert-pem', pemBundle),
    token: part('token', parseIstioToken),
    versions: part('versions', parseVersions),
    secrets: mergeParts(
      part('envoy-secrets-active', (t) => mapOk(parseSecretsDump(t, { resource: 'dynamic_active_secrets' }), (d) => d.secrets)),
      part('envoy-secrets-warming', (t) => mapOk(parseSecretsDump(t, { resource: 'dynamic_warming_secrets' }), (d) => d.secrets)),
    ),
    clusters: mergeParts(
      part('envoy-clusters-active', (t) => mapOk(parseClustersDump(t, { resource: 'dynamic_active_clusters' }), (d) => d.clusters)),
      part('envoy-clusters-warming', (t) => mapOk(parseClustersDump(t, { resource: 'dynamic_warming_clusters' }), (d) => d.clusters)),
    ),
    outboundHealth: part('envoy-clusters-health', parseOutboundHealth),
  };
  return { ...snapshot, unparseable: [...unparseable].sort() };
}

/**
 * A copy of the snapshot that holds no reference into the output it was parsed from. Strings cut from a
 * larger one (a regex match, a slice) keep the whole of it alive in V8; a fleet's snapshots must cost
 * what they hold, not what each VM printed. structuredClone copies every string, Map and Date.
 */
function detached(snapshot: VmSnapshot): VmSnapshot {
  return structuredClone(snapshot);
}

/** The section of a file the VM does not have: rc 1, nothing printed. */
function isAbsentFile(section: Section): boolean {
  return !section.cut && section.rc === 1 && section.content === '';
}

/**
 * sidecar.env is optional: an absent file (rc 1, nothing printed) adds nothing, and so does an output
 * from a script that did not collect it yet (no section in an output that reached its end). A section
 * cut, or lost with a cut output, could hold any variable: the environment is then unknown.
 */
function sidecarEnv(
  section: Section | undefined,
  truncated: boolean,
  parse: (
    section: Section | undefined,
    name: string,
    parser: (text: string) => Evidence<Map<string, string>>,
  ) => Evidence<Map<string, string>>,
): Evidence<Map<string, string>> {
  if (!section)
    return truncated
      ? { ok: false, reason: 'the output was cut before sidecar.env: the variables it may set are unknown' }
      : { ok: true, value: new Map() };
  if (isAbsentFile(section)) return { ok: true, value: new Map() };
  if (!section.cut && section.rc !== 0)
    return { ok: false, reason: `sidecar.env could not be read (section sidecar-env rc ${section.rc})` };
  return parse(section, 'sidecar-env', (text) => ({ ok: true, value: parseClusterEnv(text) }));
}

/** The effective environment, unknown when either file's part of it is. */
function mergedEnvironment(
  clusterEnv: Evidence<Map<string, string>>,
  sidecar: Evidence<Map<string, string>> | undefined,
): Evidence<Map<string, string>> {
  if (!clusterEnv.ok || sidecar === undefined) return clusterEnv;
  if (!sidecar.ok) return sidecar;
  return { ok: true, value: effectiveEnvironment(sidecar.value, clusterEnv.value) };
}

function mapOk<T, U>(evidence: Evidence<T>, map: (value: T) => U): Evidence<U> {
  return evidence.ok ? { ok: true, value: map(evidence.value) } : evidence;
}

function mergeParts<T>(active: Evidence<T[]>, warming: Evidence<T[]>): Evidence<T[]> {
  if (!active.ok) return active;
  if (!warming.ok) return warming;
  return { ok: true, value: [...active.value, ...warming.value] };
}

/** A PEM bundle whose first block is a readable certificate. */
function pemBundle(text: string): Evidence<CertificateInfo[]> {
  const parsed = parsePemCertificates(text);
  if (!parsed.primary) return { ok: false, reason: parsed.problems[0] ?? 'no certificate' };
  return { ok: true, value: parsed.certificates };
}

function iptablesBackend(
  section: Section,
  name: IptablesSection,
  parser: (text: string) => Evidence<IptablesRuleset>,
  parse: (section: Section, name: string, parser: (text: string) => Evidence<IptablesRuleset>) => Evidence<IptablesRuleset>,
): IptablesBackend {
  const absent = section.missing.length > 0 && section.content.trim() === '';
  return {
    section: name,
    absent,
    ruleset: absent ? { ok: false, reason: `${name} is not installed` } : parse(section, name, parser),
  };
}

/**
 * The most each section may hold: what the script bounds it to (docs/diagnostic-output.md). A larger
 * section did not come from the script, and is refused before any parser spends time on it.
 */
export const SECTION_LIMITS: Readonly<Record<string, number>> = {
  identity: 4096,
  systemd: 4096,
  readiness: 1024,
  'envoy-server-info': 65536,
  'envoy-stats': 8192,
  'envoy-secrets-active': 262144,
  'envoy-secrets-warming': 262144,
  'envoy-clusters-active': 524288,
  'envoy-clusters-warming': 262144,
  'envoy-clusters-health': 524288,
  logs: 16384,
  'cluster-env': 16384,
  'sidecar-env': 16384,
  'mesh-config': 16384,
  hosts: 4096,
  ...Object.fromEntries(IPTABLES_SECTIONS.map((name) => [name, 65536])),
  nftables: 65536,
  certs: 8192,
  'cert-chain-pem': 32768,
  'root-cert-pem': 32768,
  token: 8192,
  versions: 1024,
};

function parseSection<T>(section: Section | undefined, name: string, parse: (content: string) => Evidence<T>): Evidence<T> {
  if (!section) return { ok: false, reason: `section ${name} is missing from the output` };
  if (section.cut) return { ok: false, reason: `section ${name} was cut` };
  const limit = SECTION_LIMITS[name];
  if (limit !== undefined && section.content.length > limit) {
    return { ok: false, reason: `section ${name} holds ${section.content.length} characters, more than the script ever prints (${limit})` };
  }
  if (section.missing.length > 0 && section.content.trim() === '') {
    return { ok: false, reason: `section ${name} is empty: ${section.missing.join(', ')} not installed` };
  }
  const parsed = parse(section.content);
  return parsed.ok ? parsed : { ok: false, reason: `section ${name}: ${parsed.reason}` };
}
