/**
 * The simulator speaks for the diagnostic script: for each simulated VM it renders what the script
 * would print there. This test holds it to that. For every VM fault that shows on the VM itself (and
 * for healthy VMs) it builds the equivalent fake VM, runs the real script on it, and requires both
 * outputs to parse to the same snapshot and to give the same findings.
 *
 * How the fake VM is made equivalent: it is given the VM's state, never the script's conclusions.
 * State comes from the simulated VM (hostname, IP, namespace, versions, uptime, certificates and the
 * workload key) or, where only the renderer holds it, from what the simulator prints as raw state:
 * file contents (cluster.env, mesh config), command outputs (`systemctl show`, each `iptables-save -t`
 * table), the VM's addresses and clock, file modes, owners and times, the token's claims, Envoy's
 * counters, SDS versions and cluster list, and log lines to count. What the script derives on the VM is
 * left to the real tools: which addresses `hostname -I` prints, file sizes, grep counts and latest
 * lines, whether openssl finds the key matching, which iptables tables are asked for and kept, which
 * package manager answers, the JWT payload, curl's exit status, and each section's rc and missing tools.
 *
 * "Same" is defined below: SNAPSHOT_PARTS (every field of VmSnapshot, compared as plain data),
 * TEXT_SECTIONS (compared byte for byte), JSON_SECTIONS (compared as JSON values), the same findings,
 * and the allowed differences (the only exceptions, each with its reason).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeBundle } from '../../lib/core/analyze.ts';
import { splitDiagnosticOutput, type Section, type SplitOutput } from '../../lib/core/diagnostic-output.ts';
import type { ClusterEvidence, EvidenceBundle } from '../../lib/core/evidence-bundle.ts';
import { parseClusterEnv, parseKeyValueLines } from '../../lib/core/parsers/key-value.ts';
import { parseLogsSummary, type LogsSummary } from '../../lib/core/parsers/logs-summary.ts';
import { IPTABLES_SECTIONS, parseVmSnapshot, type VmSnapshot } from '../../lib/core/vm-snapshot.ts';
import { mintWorkloadCertificate } from '../../sim/certificates.ts';
import { simClusterEvidence, simInstanceInformation, simInvocation } from '../../sim/cluster.ts';
import { buildSimFleetAsync, VM_CONFIGURATIONS, VM_FAULTS, type SimFleet, type SimVm, type VmFault } from '../../sim/fleet.ts';
import type { SimVmCertificates } from '../../sim/vm-certificates.ts';
import { renderVmOutput } from '../../sim/vm-output.ts';
import {
  createFakeVm,
  type EnvoyCluster,
  type FakeVmOptions,
  type IptablesTool,
  type IptablesToolState,
  type RunResult,
  type ShellName,
} from '../diagnostic-script/fake-vm.ts';

const NOW = new Date('2026-11-26T06:00:00.000Z');
const SEED = 7;
const DEFAULT_READY_URL = 'http://127.0.0.1:15021/healthz/ready';
/** Fake VMs alive at once: each runs a shell and a dozen tools, on a machine of two shared cores. */
const CONCURRENCY = 3;

/** VM faults that change nothing the script could see on the VM: no fake VM is built for them. */
const NOT_ON_THE_VM: Partial<Record<VmFault, string>> = {
  'ssm-undeliverable': 'SSM never delivers the command, so the script never runs and there is no output to compare',
  'xds-stale': "only istiod's /debug/syncz says it (EDS sent, not acknowledged)",
  'xds-nack': "only istiod's /debug/syncz says it (the NACK of a listener push)",
  'duplicate-workload-entry': 'a second WorkloadEntry in Kubernetes',
  'stale-connected-at': "an annotation of the VM's WorkloadEntry",
  'unhealthy-workload-entry': "the Healthy condition istiod writes on the VM's WorkloadEntry",
};

/**
 * Every field of VmSnapshot. The `satisfies` makes this list fail to compile when the snapshot gains a
 * field, so a new part cannot go uncompared.
 */
const SNAPSHOT_PARTS = {
  formatVersion: true,
  readable: true,
  truncated: true,
  problems: true,
  sections: true,
  unparseable: true,
  identity: true,
  unit: true,
  readiness: true,
  clusterEnv: true,
  meshConfig: true,
  hostsPins: true,
  serverInfo: true,
  logText: true,
  stats: true,
  logs: true,
  iptables: true,
  nftables: true,
  certs: true,
  certChain: true,
  rootCert: true,
  token: true,
  versions: true,
  secrets: true,
  clusters: true,
  outboundHealth: true,
} as const satisfies Record<keyof VmSnapshot, true>;

/** Sections whose bytes the script defines (or copies from a file or a tool): they must be identical. */
const TEXT_SECTIONS = [
  'identity',
  'systemd',
  'readiness',
  'envoy-stats',
  'logs',
  'cluster-env',
  'sidecar-env',
  'mesh-config',
  'hosts',
  ...IPTABLES_SECTIONS,
  'nftables',
  'certs',
  'cert-chain-pem',
  'root-cert-pem',
  'token',
  'versions',
];

/**
 * Envoy's JSON answers, compared as JSON values: Envoy's JSON printer and the simulator lay them out
 * with different white space. envoy-server-info is compared as parsed only (the serverInfo part): the
 * simulator shows a subset of the fields a real /server_info holds, which is not a difference in what
 * any part of the audit reads.
 */
const JSON_SECTIONS = [
  'envoy-secrets-active',
  'envoy-secrets-warming',
  'envoy-clusters-active',
  'envoy-clusters-warming',
  'envoy-clusters-health',
];

/*
 * The only differences allowed between the script's output and the simulator's, and why:
 * - the boundary: drawn at random on every run; splitting drops it, so no snapshot part holds it.
 * - the readiness `url=` line: the fake VM's agent answers on a free loopback port, not on 15021. The
 *   script's line is put back to DEFAULT_READY_URL before anything is compared (withDefaultReadyUrl), so
 *   the readiness part and section are still compared whole. No other line is rewritten.
 * The VM's clock needs no allowance: the fake VM's `date` answers the simulated clock, to the second.
 */

interface Scenario {
  name: string;
  vm: SimVm;
  shell: ShellName;
}

interface Outcome {
  scenario: Scenario;
  sim: string;
  script: RunResult;
  /** The script's stdout with the readiness URL put back to the default (the allowed differences above). */
  scriptOutput: string;
}

let fleet: SimFleet;
let cluster: ClusterEvidence;
const outcomes = new Map<string, Outcome>();

const healthy = (pick: (vm: SimVm) => boolean) => (f: SimFleet) => f.vms.find((vm) => vm.faults.length === 0 && pick(vm));
const SCENARIOS: Array<{ name: string; find: (f: SimFleet) => SimVm | undefined; shells: ShellName[] }> = [
  { name: 'healthy EC2 VM (rpm)', find: healthy((vm) => !vm.hybrid), shells: ['dash'] },
  { name: 'healthy hybrid VM (dpkg)', find: healthy((vm) => vm.hybrid), shells: ['dash', 'bash', 'busybox'] },
  ...VM_FAULTS.filter((fault) => !(fault in NOT_ON_THE_VM)).map((fault) => ({
    name: fault,
    find: (f: SimFleet) => f.vms.find((vm) => vm.faults.includes(fault)),
    shells: ['dash' as ShellName],
  })),
  ...VM_CONFIGURATIONS.map((configuration) => ({
    name: `${configuration} layout`,
    find: (f: SimFleet) => f.vms.find((vm) => vm.configuration === configuration),
    shells: ['dash' as ShellName],
  })),
];
const RUNS = SCENARIOS.flatMap((s) => s.shells.map((shell) => `${s.name} under ${shell}`));

beforeAll(async () => {
  fleet = await buildSimFleetAsync({ vms: 50, seed: SEED, now: NOW });
  cluster = simClusterEvidence(fleet);
  // Every workload certificate of a simulated mesh is minted on the same cached key: this one is it.
  const workloadKeyPem = (
    await mintWorkloadCertificate(fleet.pki!.root, {
      namespace: 'default',
      serviceAccount: 'default',
      notBefore: NOW,
      serialNumber: '02ff',
    })
  ).privateKeyPem;
  const jobs: Scenario[] = [];
  for (const s of SCENARIOS) {
    const vm = s.find(fleet);
    if (!vm) throw new Error(`the simulated fleet (seed ${SEED}) has no VM for the scenario ${s.name}`);
    for (const shell of s.shells) jobs.push({ name: `${s.name} under ${shell}`, vm, shell });
  }
  await inPool(jobs, CONCURRENCY, async (scenario) => {
    const sim = simInvocation(fleet, scenario.vm).StandardOutputContent!;
    const certificates = fleet.vmCertificates!.get(scenario.vm.instanceId)!;
    const fake = await createFakeVm(fakeVmOptions(scenario.vm, certificates, workloadKeyPem, splitDiagnosticOutput(sim)));
    try {
      const script = await fake.run(scenario.shell);
      outcomes.set(scenario.name, { scenario, sim, script, scriptOutput: withDefaultReadyUrl(script.stdout, fake.env.AGENT_READY_URL!) });
    } finally {
      await fake.close();
    }
  });
}, 300_000);

afterAll(() => outcomes.clear());

describe('the simulator prints what the real script prints on the same VM', () => {
  it('covers every VM fault that shows on the VM, and the faults it skips leave the VM as it was', () => {
    for (const fault of VM_FAULTS) {
      const vm = fleet.vms.find((v) => v.faults.includes(fault))!;
      const certificates = fleet.vmCertificates!.get(vm.instanceId);
      const without = renderVmOutput(fleet, { ...vm, faults: vm.faults.filter((f) => f !== fault) }, certificates);
      if (fault in NOT_ON_THE_VM)
        expect(renderVmOutput(fleet, vm, certificates), `${fault} is said to leave the VM as it was`).toBe(without);
      else expect(SCENARIOS.map((s) => s.name)).toContain(fault);
    }
  });

  it.each(RUNS)('%s: the script runs cleanly and its output is readable', (name) => {
    const { script, scriptOutput } = outcome(name);
    expect(script.stderr).toBe('');
    expect(script.code).toBe(0);
    const snapshot = parseVmSnapshot(scriptOutput);
    expect(snapshot.readable).toBe(true);
    expect(snapshot.problems).toEqual([]);
    expect(scriptOutput, 'the readiness URL line must have been found and put back').toContain(`\nurl=${DEFAULT_READY_URL}\n`);
  });

  it.each(RUNS)('%s: same snapshot, part by part', (name) => {
    const { sim, scriptOutput } = outcome(name);
    const fromSim = parseVmSnapshot(sim);
    const fromScript = parseVmSnapshot(scriptOutput);
    for (const part of Object.keys(SNAPSHOT_PARTS) as Array<keyof VmSnapshot>) {
      expect.soft(plain(fromScript[part]), part).toStrictEqual(plain(fromSim[part]));
    }
  });

  it.each(RUNS)('%s: same bytes in every text section', (name) => {
    const { sim, scriptOutput } = outcome(name);
    const fromSim = splitDiagnosticOutput(sim);
    const fromScript = splitDiagnosticOutput(scriptOutput);
    for (const section of TEXT_SECTIONS)
      expect.soft(fromScript.sections.get(section)?.content, section).toBe(fromSim.sections.get(section)?.content);
  });

  it.each(RUNS)('%s: same JSON in every Envoy section but server_info', (name) => {
    const { sim, scriptOutput } = outcome(name);
    const fromSim = splitDiagnosticOutput(sim);
    const fromScript = splitDiagnosticOutput(scriptOutput);
    const json = (section: Section | undefined) => (section?.content ? (JSON.parse(section.content) as unknown) : section?.content);
    for (const section of JSON_SECTIONS)
      expect.soft(json(fromScript.sections.get(section)), section).toStrictEqual(json(fromSim.sections.get(section)));
  });

  it.each(RUNS)('%s: same findings', (name) => {
    const { scenario, sim, scriptOutput } = outcome(name);
    const fromSim = analyzeBundle(bundle(scenario.vm, sim));
    const fromScript = analyzeBundle(bundle(scenario.vm, scriptOutput));
    expect(fromScript.findings.filter((f) => f.subject.id === scenario.vm.instanceId).length, 'the VM has findings').toBeGreaterThan(0);
    expect(fromScript.findings).toStrictEqual(fromSim.findings);
    expect(fromScript.vms).toStrictEqual(fromSim.vms);
  });
});

/** The one rewrite of the script's output (see the allowed differences above); left as it is unless the line occurs exactly once. */
function withDefaultReadyUrl(stdout: string, readyUrl: string): string {
  const line = `\nurl=${readyUrl}\n`;
  return stdout.split(line).length === 2 ? stdout.replace(line, `\nurl=${DEFAULT_READY_URL}\n`) : stdout;
}

function outcome(name: string): Outcome {
  const found = outcomes.get(name);
  if (!found) throw new Error(`no run for ${name}: see beforeAll`);
  return found;
}

/** One VM's audit as the sim source gives it, with `stdout` as the script's output. */
function bundle(vm: SimVm, stdout: string): EvidenceBundle {
  return {
    manifest: {
      bundleVersion: 1,
      runId: 'sim-honesty',
      startedAt: new Date(NOW.getTime() - 60_000).toISOString(),
      finishedAt: NOW.toISOString(),
      source: 'sim',
    },
    inventory: { InstanceInformationList: [simInstanceInformation(fleet, vm)] },
    invocations: { [vm.instanceId]: { ...simInvocation(fleet, vm), StandardOutputContent: stdout } },
    cluster,
  };
}

/** Maps, dates and bigints as plain data, so that a difference shows as a readable diff. */
function plain(value: unknown): unknown {
  if (value instanceof Map) return [...value].map(([k, v]) => [plain(k), plain(v)]);
  if (value instanceof Date) return `Date(${value.toISOString()})`;
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

// ---------------------------------------------------------------------------------------------------
// The fake VM of a simulated VM

function fakeVmOptions(vm: SimVm, certificates: SimVmCertificates, workloadKeyPem: string, rendered: SplitOutput): FakeVmOptions {
  const section = (name: string): Section => {
    const found = rendered.sections.get(name);
    if (!found) throw new Error(`the simulator rendered no ${name} section for ${vm.instanceId}`);
    return found;
  };
  const kv = (name: string) => parseKeyValueLines(section(name).content);
  const textLines = (text: string) => text.split('\n').filter((line) => line !== '');
  const identity = kv('identity');
  const clock = Number(identity.get('clock'));
  const readiness = kv('readiness');
  const envoyUp = section('envoy-server-info').rc !== 7;
  const certsListing = certsLines(section('certs').content);
  const chainFile = certsListing.get('cert-chain.pem')!;
  const keyFile = certsListing.get('key.pem')!;
  const token = kv('token');
  const tokenFile = /^mode=(?<mode>\d+) uid=(?<uid>\d+) gid=(?<gid>\d+) owner=(?<owner>\S+) mtime=(?<mtime>\d+)$/m.exec(
    section('token').content,
  )!.groups!;
  const versions = kv('versions');
  const clusterEnv = section('cluster-env').content;
  const sidecarEnv = section('sidecar-env');

  return {
    hostname: vm.hostname,
    addresses: identity.get('ips')!.split(' ').filter(Boolean),
    clock,
    os: identity.get('os')!,
    proxyUid: Number(identity.get('proxy_uid')),
    proxyGid: Number(identity.get('proxy_gid')),
    fileOwner: { uid: Number(chainFile.uid), gid: Number(chainFile.gid), name: chainFile.owner! },
    systemdProperties: textLines(section('systemd').content),
    readiness: readiness.get('curl_exit') === '7' ? 'refused' : (Number(readiness.get('http_code')) as 200 | 503),
    envoy: envoyUp ? 'up' : 'refused',
    envoyNode: {
      ip: vm.ip,
      hostname: vm.hostname,
      namespace: vm.namespace,
      cluster: `${parseClusterEnv(clusterEnv).get('CANONICAL_SERVICE')}.${vm.namespace}`,
      istioVersion: vm.istioVersion,
      uptimeSeconds: vm.uptimeSeconds,
    },
    ...(envoyUp
      ? {
          envoyStats: envoyStats(section('envoy-stats').content),
          envoySecrets: {
            chainPem: certificates.chainPem,
            rootPem: certificates.rootPem,
            ...sdsVersions(section('envoy-secrets-active').content),
          },
          envoyClusters: {
            active: envoyClusters(section('envoy-clusters-active').content),
            warming: envoyClusters(section('envoy-clusters-warming').content),
          },
          envoyClusterStatuses: section('envoy-clusters-health').content,
        }
      : {}),
    ...logFiles(parseLogsOrThrow(section('logs').content), clock),
    clusterEnv: asFile(clusterEnv),
    ...(sidecarEnv.rc === 0 ? { sidecarEnv: asFile(sidecarEnv.content) } : {}),
    meshConfig: asFile(section('mesh-config').content),
    // A VM's own lines around the pin, which the script leaves out.
    etcHosts: `127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n# istioctl x workload entry configure\n${asFile(section('hosts').content)}`,
    ...iptables(rendered),
    ...nftables(rendered),
    // The files as pilot-agent writes them from the SDS secrets, each PEM ending with its newline.
    certificates: {
      chainPem: asFile(certificates.chainPem),
      rootPem: asFile(certificates.rootPem),
      keyPem: asFile(workloadKeyPem),
      mtime: Number(chainFile.mtime),
    },
    keyMode: parseInt(keyFile.mode!, 8),
    certsDir: /^location=(?<dir>\S+) /m.exec(section('certs').content)!.groups!.dir!,
    ...(section('certs').missing.includes('openssl') ? { without: ['openssl'] } : {}),
    token: {
      claims: JSON.parse(Buffer.from(token.get('payload')!, 'base64url').toString('utf8')) as Record<string, unknown>,
      mtime: Number(tokenFile.mtime),
    },
    packageManager: versions.get('package_manager') as 'dpkg' | 'rpm',
    packageVersion: versions.get('package_version')!,
    pilotAgentVersion: versions.get('pilot_agent_version')!,
  };
}

/** A text file's bytes: its lines, each ended by a newline. */
function asFile(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function certsLines(text: string): Map<string, Record<string, string>> {
  const files = new Map<string, Record<string, string>>();
  for (const line of text.split('\n')) {
    const m =
      /^file mode=(?<mode>\d+) uid=(?<uid>\d+) gid=(?<gid>\d+) owner=(?<owner>\S+) size=\d+ mtime=(?<mtime>\d+) name=(?<name>.+)$/.exec(
        line,
      );
    if (m?.groups) files.set(m.groups.name!, m.groups);
  }
  return files;
}

function parseLogsOrThrow(text: string): LogsSummary {
  const parsed = parseLogsSummary(text);
  if (!parsed.ok) throw new Error(`the simulated logs section is unreadable: ${parsed.reason}`);
  return parsed.value;
}

/** The counters the simulated Envoy shows, plus the neighbours the script's /stats filter must leave out. */
function envoyStats(text: string): Record<string, number> {
  const stats: Record<string, number> = {
    'server.live': 1,
    'server.uptime': 1,
    'cluster_manager.cds.update_attempt': 0,
    'listener_manager.lds.update_attempt': 0,
  };
  for (const line of text.split('\n')) {
    const m = /^(?<name>\S+): (?<value>\d+)$/.exec(line);
    if (m?.groups) stats[m.groups.name!] = Number(m.groups.value);
  }
  return stats;
}

/** The SDS version and update time of the secrets the simulated Envoy holds (both secrets were pushed together). */
function sdsVersions(text: string): { versionInfo: string; lastUpdated: Date } {
  const dump = JSON.parse(text) as { configs: Array<{ version_info: string; last_updated: string }> };
  const [first] = dump.configs;
  return { versionInfo: first!.version_info, lastUpdated: new Date(first!.last_updated) };
}

function envoyClusters(text: string): EnvoyCluster[] {
  const dump = JSON.parse(text) as { configs?: Array<{ cluster: { name: string; type?: EnvoyCluster['type'] } }> };
  return (dump.configs ?? []).map((c) => ({ name: c.cluster.name, type: c.cluster.type ?? 'STATIC' }));
}

/**
 * Logs that reduce to the simulated summary: each source as long as it says, every counted line in
 * istio.log (where pilot-agent writes), the earlier matches of a pattern before its latest line, and
 * filler that matches no pattern.
 */
function logFiles(summary: LogsSummary, clock: number): Pick<FakeVmOptions, 'journal' | 'istioLog' | 'istioErrLog'> {
  const lengthOf = (name: string): number => {
    const source = summary.sources.find((s) => s.name === name);
    if (source?.state !== 'ok')
      throw new Error(`the simulated log source ${name} is ${source?.state ?? 'absent'}: only readable sources are modelled`);
    return source.lines;
  };
  const matches: string[] = [];
  for (const [pattern, count] of summary.counts) {
    const latest = summary.latest.get(pattern);
    if (count === 0) continue;
    if (latest === undefined) throw new Error(`the simulated logs count ${count} ${pattern} lines but show no latest one`);
    for (let k = count - 1; k >= 1; k--) matches.push(shiftTimestamp(latest, -10 * k));
    matches.push(latest);
  }
  const at = (i: number) => new Date((clock - 7200 + i) * 1000).toISOString().replace(/\.\d{3}Z$/, '.000000Z');
  // tail -n 2000 reads at most 2000 lines: a longer file proves the bound without changing the count.
  const istioLines = lengthOf('istio.log') === 2000 ? 2100 : lengthOf('istio.log');
  const filler = istioLines - matches.length;
  if (filler < 0) throw new Error('more counted log lines than istio.log holds');
  return {
    journal: Array.from({ length: lengthOf('journal') }, (_, i) =>
      i % 2 === 0
        ? "+ exec su -s /bin/bash -c 'exec /usr/local/bin/pilot-agent proxy 2>> /var/log/istio/istio.err.log >> /var/log/istio/istio.log' istio-proxy"
        : 'Started istio.service - istio-sidecar.',
    ),
    istioLog: [
      ...Array.from(
        { length: filler },
        (_, i) => `${at(i)}\tinfo\tcache\tgenerated new workload certificate\tresourceName=default latency=88.1ms ttl=23h59m59s`,
      ),
      ...matches,
    ],
    istioErrLog: Array.from(
      { length: lengthOf('istio.err.log') },
      (_, i) =>
        `[${at(i).slice(0, 10)} ${at(i).slice(11, 23)}][21][info][main] [source/server/server.cc:978] all clusters initialized. initializing init manager`,
    ),
  };
}

/** The same log line `seconds` later (earlier when negative), when it starts with pilot-agent's timestamp. */
function shiftTimestamp(line: string, seconds: number): string {
  const m = /^(?<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(?<frac>\d+)Z/.exec(line);
  if (!m?.groups) return line;
  const shifted = new Date(Date.parse(`${m.groups.ts}Z`) + seconds * 1000).toISOString().slice(0, 19);
  return `${shifted}.${m.groups.frac}Z${line.slice(m[0].length)}`;
}

/** nft, when the simulated VM printed an nftables section: each table of it, as `nft list table` answers. */
function nftables(rendered: SplitOutput): Pick<FakeVmOptions, 'nftTables'> {
  const section = rendered.sections.get('nftables');
  if (!section) return {};
  const tables: Record<string, string> = {};
  for (const m of section.content.matchAll(/^table inet (?<name>\S+) \{\n[\s\S]*?^\}\n/gm)) tables[m.groups!.name!] = m[0];
  return { nftTables: tables };
}

/**
 * The save tools the simulated VM has (those with a section not naming them missing), each answering
 * its simulated output for `-t nat` and tables without Istio rules for raw and mangle. A legacy tool
 * with an empty section has no table loaded; one with rules has nat loaded.
 */
function iptables(rendered: SplitOutput): Pick<FakeVmOptions, 'iptables' | 'legacyTables'> {
  const tools: Partial<Record<IptablesTool, IptablesToolState>> = {};
  const loaded = { ipv4: [] as string[], ipv6: [] as string[] };
  for (const name of IPTABLES_SECTIONS) {
    const section = rendered.sections.get(name);
    if (!section || section.missing.includes(name)) continue;
    const legacy = name.includes('legacy') || / \(legacy\)/.test(section.content);
    const builtIn = (table: string, chains: string[]) => `*${table}\n${chains.map((c) => `:${c} ACCEPT [0:0]`).join('\n')}\nCOMMIT\n`;
    tools[name] = {
      backend: legacy ? 'legacy' : 'nf_tables',
      tables: {
        nat: section.content === '' ? '' : asFile(section.content),
        raw: builtIn('raw', ['PREROUTING', 'OUTPUT']),
        mangle: builtIn('mangle', ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']),
      },
    };
    if (legacy && section.content.trim() !== '') loaded[name.startsWith('ip6') ? 'ipv6' : 'ipv4'].push('nat');
  }
  return { iptables: tools, legacyTables: loaded };
}
