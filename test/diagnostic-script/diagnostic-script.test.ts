import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitDiagnosticOutput, type Section, type SplitOutput } from '../../lib/core/diagnostic-output.ts';
import { parseVmSnapshot } from '../../lib/core/vm-snapshot.ts';
import {
  createFakeVm,
  findOnPath,
  IPTABLES_TOOLS,
  SCRIPT_PATH,
  SCRIPT_SECTIONS,
  SHELLS,
  VM,
  type FakeVm,
  type FakeVmOptions,
  type RunResult,
  type ShellName,
} from './fake-vm.ts';

const execFileAsync = promisify(execFile);

const LOG_PATTERNS = ['warm-cert', 'not-ready', 'no-workload-group', 'token', 'x509', 'istiod-dial', 'dns-not-ready', 'stream-closed'];

interface Run extends RunResult {
  split: SplitOutput;
}

/** Runs the script on a fresh fake VM and closes it, keeping what the VM saw. */
async function runScenario(options: FakeVmOptions, shell: ShellName = 'dash'): Promise<Run & { vm: FakeVm; calls: string[] }> {
  const vm = await createFakeVm(options);
  try {
    const result = await vm.run(shell);
    return { ...result, split: splitDiagnosticOutput(result.stdout), vm, calls: vm.calls() };
  } finally {
    await vm.close();
  }
}

function section(split: SplitOutput, name: string): Section {
  const s = split.sections.get(name);
  if (!s) throw new Error(`section ${name} is missing; sections: ${[...split.sections.keys()].join(' ')}`);
  return s;
}

function kv(content: string): Record<string, string> {
  return Object.fromEntries(
    content
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function expectWellFormed(run: Run): void {
  expect(run.code).toBe(0);
  expect(run.stderr).toBe('');
  expect(run.split.problems).toEqual([]);
  expect(run.split.truncated).toBe(false);
}

describe('the diagnostic script on a healthy fake VM', () => {
  let vm: FakeVm;
  const outputs = new Map<ShellName, RunResult>();
  beforeAll(async () => {
    // With a sidecar.env, so that every section has a file to read.
    vm = await createFakeVm({ sidecarEnv: 'ISTIO_AGENT_FLAGS=--log_output_level=default:info\n' });
  });
  afterAll(async () => {
    await vm?.close();
  });

  it.each(SHELLS)('runs under %s, prints every documented section once, in order, and changes nothing', async (shell) => {
    const before = vm.hashRoot();
    const result = await vm.run(shell);
    outputs.set(shell, result);
    const split = splitDiagnosticOutput(result.stdout);
    expectWellFormed({ ...result, split });
    expect(result.stdout).toMatch(/^FLEET-AUDIT-DIAGNOSTICS v1 boundary=@@fa-[0-9a-f]{16}\n/);
    const boundary = /boundary=(?<b>\S+)/.exec(result.stdout)!.groups!.b!;
    expect(result.stdout.endsWith(`\n${boundary} DONE sections=${SCRIPT_SECTIONS.length}\n`)).toBe(true);
    expect([...split.sections.keys()]).toEqual(SCRIPT_SECTIONS);
    for (const name of SCRIPT_SECTIONS) {
      expect(result.stdout.split(`\n${boundary} BEGIN ${name}\n`)).toHaveLength(2);
      expect(split.sections.get(name), name).toMatchObject({ rc: 0, cut: false, missing: [] });
    }
    expect(vm.hashRoot()).toBe(before);
    expect(readdirSync(vm.tmp)).toEqual([]);
  });

  it("gives parseVmSnapshot the mesh config's discoveryAddress and the /etc/hosts pin istioctl wrote, and no other hosts line", () => {
    const out = outputs.get('dash');
    expect(out, 'the dash run must have passed').toBeDefined();
    const snap = parseVmSnapshot(out!.stdout);
    expect(snap.meshConfig).toEqual({ ok: true, value: { discoveryAddress: 'istiod-rev-1.istio-system.svc:15012' } });
    expect(snap.hostsPins).toEqual({ ok: true, value: [{ address: '10.10.10.11', names: ['istiod-rev-1.istio-system.svc'] }] });
  });

  it('gives parseVmSnapshot an identity, unit, readiness, cluster.env and server info with the VM values', () => {
    const out = outputs.get('dash');
    expect(out, 'the dash run must have passed').toBeDefined();
    const snap = parseVmSnapshot(out!.stdout);
    expect(snap.readable).toBe(true);
    expect(snap.problems).toEqual([]);
    expect(snap.identity).toEqual({
      ok: true,
      value: {
        hostname: VM.hostname,
        ips: [VM.ip, VM.ip6],
        clockEpochSeconds: expect.any(Number),
        os: VM.os,
        proxyUid: VM.proxyUid,
        proxyGid: VM.proxyUid,
      },
    });
    expect(snap.unit).toEqual({
      ok: true,
      value: {
        activeState: 'active',
        subState: 'running',
        unitFileState: 'enabled',
        nRestarts: 0,
        activeEnterMs: VM.activeEnterSeconds * 1000,
        mainPid: VM.mainPid,
        notFound: false,
      },
    });
    expect(snap.readiness).toEqual({ ok: true, value: { outcome: 'ready', httpCode: 200, curlExit: 0, url: vm.env.AGENT_READY_URL } });
    expect(snap.clusterEnv.ok && snap.clusterEnv.value.get('ISTIO_NAMESPACE')).toBe('bar');
    expect(snap.clusterEnv.ok && snap.clusterEnv.value.get('ISTIO_METAJSON_LABELS')).toBe(
      '{"service.istio.io/canonical-name":"foo","service.istio.io/canonical-revision":"latest"}',
    );
    expect(snap.serverInfo).toEqual({
      ok: true,
      value: {
        state: 'LIVE',
        nodeId: `sidecar~${VM.ip}~${VM.hostname}.${VM.namespace}~${VM.namespace}.svc.cluster.local`,
        nodeIp: VM.ip,
        proxyName: `${VM.hostname}.${VM.namespace}`,
        istioVersion: VM.istioVersion,
        uptimeSeconds: 3600,
      },
    });
  });

  it('prints the same content under every shell, apart from the boundary and the clock', () => {
    const normalise = (text: string) => text.replace(/@@fa-[0-9a-f]{16}/g, '@@fa-X').replace(/^clock=\d+$/m, 'clock=N');
    const dash = outputs.get('dash');
    expect(dash).toBeDefined();
    for (const shell of SHELLS) expect(normalise(outputs.get(shell)?.stdout ?? ''), shell).toBe(normalise(dash!.stdout));
  });

  it('runs the same when piped into the shell, as `fleet-audit script | ssh vm sudo sh` does', async () => {
    const result = await vm.run('dash', { stdin: true });
    const split = splitDiagnosticOutput(result.stdout);
    expectWellFormed({ ...result, split });
    expect([...split.sections.keys()]).toEqual(SCRIPT_SECTIONS);
  });

  it('draws a new boundary from /dev/urandom on each run', () => {
    const boundaries = new Set([...outputs.values()].map((r) => /boundary=(\S+)/.exec(r.stdout)?.[1]));
    expect(boundaries.size).toBe(SHELLS.length);
  });

  it('prints each section in its documented format', () => {
    const split = splitDiagnosticOutput(outputs.get('dash')!.stdout);
    expect(kv(section(split, 'identity').content)).toMatchObject({ script_version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });

    expect(section(split, 'envoy-stats').content.trim().split('\n').sort()).toEqual([
      'cluster_manager.cds.update_rejected: 0',
      'cluster_manager.cds.update_success: 5',
      'control_plane.connected_state: 1',
      'listener_manager.lds.update_rejected: 0',
      'listener_manager.lds.update_success: 4',
      'server.state: 0',
    ]);
    const secrets = JSON.parse(section(split, 'envoy-secrets-active').content) as { configs: Array<{ name: string }> };
    expect(secrets.configs.map((c) => c.name)).toEqual(['default', 'ROOTCA']);
    expect(JSON.parse(section(split, 'envoy-secrets-warming').content)).toEqual({});
    const clusters = JSON.parse(section(split, 'envoy-clusters-active').content) as { configs: Array<{ cluster: { name: string } }> };
    expect(clusters.configs.map((c) => c.cluster.name)).toContain('outbound|15012||istiod.istio-system.svc.cluster.local');

    const logs = section(split, 'logs').content.split('\n').filter(Boolean);
    expect(logs.slice(0, 3)).toEqual(['source journal ok 1', 'source istio.log ok 5', 'source istio.err.log ok 1']);
    expect(logs.filter((l) => l.startsWith('count ')).map((l) => l.split(' ')[1])).toEqual(LOG_PATTERNS);
    expect(logs).toContain('count istiod-dial 2');
    expect(logs).toContain('count stream-closed 1');
    expect(logs).toContain('count not-ready 0');
    expect(logs.filter((l) => l.startsWith('last ')).map((l) => l.split(' ')[1])).toEqual(['istiod-dial', 'stream-closed']);
    // The latest match in source order is istio.err.log's line.
    expect(logs.find((l) => l.startsWith('last istiod-dial '))).toMatch(
      /^last istiod-dial \[2026-11-26 06:20:00\.900\].*dial tcp 10\.100\.0\.12:15012: connect: connection refused"$/,
    );

    const iptables = section(split, 'iptables-save').content;
    expect(iptables).toMatch(/^# Generated by iptables-nft-save v1\.8\.9 \(nf_tables\)/);
    expect(iptables).toContain('*nat\n:PREROUTING ACCEPT [0:0]\n');
    expect(iptables).toContain('-A OUTPUT -p tcp -j ISTIO_OUTPUT\n');
    expect(iptables).toContain('*raw\n');
    expect(iptables).not.toContain('*mangle');
    expect(iptables).not.toContain('*filter');
    expect(section(split, 'iptables-legacy-save').content).toBe('');
    expect(section(split, 'ip6tables-save').content).toContain('-A ISTIO_OUTPUT -d ::1/128 -j RETURN\n');

    const certs = section(split, 'certs').content.split('\n').filter(Boolean);
    expect(certs.map((l) => l.replace(/ uid=.* size=\d+ mtime=\d+/, ''))).toEqual([
      'location=/etc/certs source=default',
      'file mode=0644 name=cert-chain.pem',
      'file mode=0600 name=key.pem',
      'file mode=0644 name=root-cert.pem',
      'key_match=yes',
    ]);
    expect(certs[2]).toMatch(/^file mode=0600 uid=\d+ gid=\d+ owner=\S+ size=\d+ mtime=\d+ name=key\.pem$/);
    expect(section(split, 'cert-chain-pem').content).toBe(`${vm.pki.leafPem}${vm.pki.rootPem}`);
    expect(section(split, 'root-cert-pem').content).toBe(vm.pki.rootPem);

    const token = section(split, 'token').content.split('\n').filter(Boolean);
    expect(token[0]).toBe('present=yes');
    expect(token[1]).toMatch(/^mode=0640 uid=\d+ gid=\d+ owner=\S+ mtime=\d+$/);
    const payload = token[2]!.replace(/^payload=/, '');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual(vm.pki.jwtClaims);

    expect(kv(section(split, 'versions').content)).toEqual({
      package_manager: 'dpkg',
      package_version: VM.istioVersion,
      pilot_agent_version: VM.istioVersion,
    });
  });

  it('only reads: tools are called to show or save, legacy iptables only about tables already loaded', () => {
    const calls = vm.calls();
    expect(calls.filter((c) => c.startsWith('systemctl ')).every((c) => / show istio /.test(c))).toBe(true);
    for (const tool of IPTABLES_TOOLS) {
      for (const call of calls.filter((c) => c.startsWith(`${tool} `)))
        expect(call).toMatch(new RegExp(`^${tool} (--version|-t (nat|raw|mangle))$`));
    }
    // ip_tables_names lists filter and mangle: asking about nat or raw would load their modules.
    expect(new Set(calls.filter((c) => c.startsWith('iptables-legacy-save -t')))).toEqual(new Set(['iptables-legacy-save -t mangle']));
    expect(calls.filter((c) => c.startsWith('ip6tables-legacy-save -t'))).toEqual([]);
    const stats = vm.requests.find((r) => r.startsWith('/stats?'));
    expect(new URL(stats!, 'http://x').searchParams.get('filter')).toBe(
      '^(control_plane\\.connected_state|server\\.state|cluster_manager\\.cds\\.update_(success|rejected)|listener_manager\\.lds\\.update_(success|rejected))$',
    );
  });
});

describe('the diagnostic script in failure scenarios', () => {
  it('reports a stopped sidecar: inactive unit, readiness refused, Envoy unreachable', async () => {
    const run = await runScenario({ unit: 'stopped', envoy: 'refused', readiness: 'refused' }, 'busybox');
    expectWellFormed(run);
    expect(kv(section(run.split, 'systemd').content)).toMatchObject({ ActiveState: 'inactive', SubState: 'dead', MainPID: '0' });
    expect(kv(section(run.split, 'readiness').content)).toMatchObject({ http_code: '000', curl_exit: '7' });
    expect(section(run.split, 'readiness').rc).toBe(7);
    for (const name of SCRIPT_SECTIONS.filter((n) => n.startsWith('envoy-')))
      expect(section(run.split, name)).toMatchObject({ content: '', rc: 7, cut: false });
    const snap = parseVmSnapshot(run.stdout);
    expect(snap.unit.ok && snap.unit.value.activeState).toBe('inactive');
    expect(snap.readiness.ok && snap.readiness.value.outcome).toBe('refused');
    expect(snap.serverInfo.ok).toBe(false);
  });

  it('prints only the /etc/hosts lines pinning istiod or the discovery host, and says when the file is larger than it read', async () => {
    const hosts = [
      '127.0.0.1 localhost',
      '10.0.0.5 db.internal backup.internal # not the control plane',
      '# 10.9.9.9 istiod.istio-system.svc',
      '10.10.10.11 istiod-rev-1.istio-system.svc # istioctl',
      '10.1.2.3 CP.Example.com',
      'istiod.istio-system.svc 10.0.0.1',
      '',
    ].join('\n');
    const run = await runScenario({ etcHosts: hosts, clusterEnvExtra: "CA_ADDR='cp.example.com:15012'" }, 'busybox');
    expectWellFormed(run);
    expect(section(run.split, 'hosts')).toMatchObject({
      content: '10.10.10.11 istiod-rev-1.istio-system.svc \n10.1.2.3 CP.Example.com\n',
      rc: 0,
      cut: false,
    });
    const big = await runScenario(
      { etcHosts: `${'10.0.0.5 filler.internal\n'.repeat(3000)}10.10.10.11 istiod.istio-system.svc\n` },
      'dash',
    );
    expect(section(big.split, 'hosts')).toMatchObject({ content: '', rc: 0, cut: true });
    expect(parseVmSnapshot(big.stdout).hostsPins).toEqual({ ok: false, reason: 'section hosts was cut' });
  });

  it('reports a 503 from the readiness port and counts the NOT ready log lines', async () => {
    const notReady = (s: number) =>
      `2026-11-26T06:21:0${s}.000000Z\twarn\tEnvoy proxy is NOT ready: config received from XDS server, but was rejected: cds updates: 3 successful, ${s} rejected`;
    const run = await runScenario({ readiness: 503, logLines: [notReady(1), notReady(2)] }, 'bash');
    expectWellFormed(run);
    expect(kv(section(run.split, 'readiness').content)).toMatchObject({ http_code: '503', curl_exit: '0' });
    const snap = parseVmSnapshot(run.stdout);
    expect(snap.readiness.ok && snap.readiness.value).toMatchObject({ outcome: 'not-ready', httpCode: 503 });
    const logs = section(run.split, 'logs').content;
    expect(logs).toContain('count not-ready 2\n');
    expect(logs).toContain(`last not-ready ${notReady(2)}\n`);
  });

  it('reports a refused readiness port while Envoy still answers', async () => {
    const run = await runScenario({ readiness: 'refused' });
    expectWellFormed(run);
    expect(kv(section(run.split, 'readiness').content)).toEqual({ url: run.vm.env.AGENT_READY_URL, http_code: '000', curl_exit: '7' });
    expect(section(run.split, 'envoy-server-info').rc).toBe(0);
    const snap = parseVmSnapshot(run.stdout);
    expect(snap.readiness.ok && snap.readiness.value).toMatchObject({ outcome: 'refused', httpCode: undefined, curlExit: 7 });
  });

  it('falls back to systemctl show without --timestamp=unix on systemd older than 248', async () => {
    const run = await runScenario({ oldSystemd: true }, 'busybox');
    expectWellFormed(run);
    expect(section(run.split, 'systemd')).toMatchObject({ rc: 0 });
    expect(run.calls.filter((c) => c.startsWith('systemctl '))).toHaveLength(2);
    const snap = parseVmSnapshot(run.stdout);
    expect(snap.unit.ok && snap.unit.value.activeEnterMs).toBe(Date.parse('2025-11-26T06:20:00Z'));
  });

  it('reports a VM without the istio unit', async () => {
    const run = await runScenario({ unit: 'not-found' });
    const snap = parseVmSnapshot(run.stdout);
    expect(snap.unit.ok && snap.unit.value.notFound).toBe(true);
  });

  it('names missing tools in missing= and still runs every other check', async () => {
    const run = await runScenario({ without: ['openssl', 'systemctl', 'journalctl', 'pilot-agent', 'dpkg-query'] }, 'bash');
    expectWellFormed(run);
    expect(section(run.split, 'systemd')).toMatchObject({ content: '', rc: 127, missing: ['systemctl'] });
    expect(section(run.split, 'certs')).toMatchObject({ missing: ['openssl'] });
    expect(section(run.split, 'certs').content).toMatch(/name=key\.pem\nfile .* name=root-cert\.pem\nkey_match=unknown\n$/);
    expect(section(run.split, 'logs').missing).toEqual(['journalctl']);
    expect(section(run.split, 'logs').content).toMatch(/^source journal missing 0\nsource istio\.log ok 5\n/);
    expect(section(run.split, 'versions')).toMatchObject({ rc: 127, missing: ['dpkg-query', 'rpm', 'pilot-agent'] });
    expect(kv(section(run.split, 'versions').content)).toEqual({ package_manager: '', package_version: '', pilot_agent_version: '' });
    const snap = parseVmSnapshot(run.stdout);
    expect(snap.unit).toEqual({ ok: false, reason: 'section systemd is empty: systemctl not installed' });
    expect(snap.identity.ok).toBe(true);
  });

  it('reports a VM without iptables: the iptables-save and ip6tables-save sections name them, the variants are absent', async () => {
    const run = await runScenario({ without: [...IPTABLES_TOOLS] }, 'busybox');
    expectWellFormed(run);
    expect(section(run.split, 'iptables-save')).toMatchObject({ content: '', rc: 127, cut: false, missing: ['iptables-save'] });
    expect(section(run.split, 'ip6tables-save')).toMatchObject({ content: '', rc: 127, missing: ['ip6tables-save'] });
    expect([...run.split.sections.keys()]).toEqual(SCRIPT_SECTIONS.filter((n) => !/tables-(legacy|nft)-save$/.test(n)));
  });

  it('reports a VM without curl: readiness and every Envoy section name it', async () => {
    const run = await runScenario({ without: ['curl'] });
    expectWellFormed(run);
    for (const name of ['readiness', ...SCRIPT_SECTIONS.filter((n) => n.startsWith('envoy-'))]) {
      expect(section(run.split, name), name).toMatchObject({ content: '', rc: 127, missing: ['curl'] });
    }
    expect(run.vm.requests).toEqual([]);
  });

  it('exits non-zero, printing nothing, when a tool it cannot do without is missing', async () => {
    const run = await runScenario({ without: ['od'] });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/cannot run: od is not installed/);
  });

  it("says key_match=no when key.pem is not the leaf certificate's key", async () => {
    const run = await runScenario({ keyMismatch: true }, 'busybox');
    expect(section(run.split, 'certs').content).toMatch(/\nkey_match=no\n$/);
  });

  it('shows a world-readable key.pem by its mode', async () => {
    const run = await runScenario({ keyMode: 0o644 });
    expect(section(run.split, 'certs').content).toMatch(/^file mode=0644 .* name=key\.pem$/m);
  });

  it('reports missing certificates and token', async () => {
    const run = await runScenario({ noCerts: true, noToken: true });
    expectWellFormed(run);
    expect(section(run.split, 'certs')).toMatchObject({ content: 'location=/etc/certs source=default\ndir=missing\n', rc: 1 });
    expect(section(run.split, 'cert-chain-pem')).toMatchObject({ content: '', rc: 1 });
    expect(section(run.split, 'token')).toMatchObject({ content: 'present=no\n', rc: 0 });
  });

  it('cuts an oversized section at its limit, says cut=1, and goes on to DONE', async () => {
    const run = await runScenario({ clustersBytes: 600_000, meshBytes: 20_000 }, 'bash');
    expectWellFormed(run);
    const clusters = section(run.split, 'envoy-clusters-active');
    expect(clusters).toMatchObject({ cut: true, rc: 0 });
    expect(Buffer.byteLength(clusters.content)).toBe(512 * 1024);
    const mesh = section(run.split, 'mesh-config');
    expect(mesh.cut).toBe(true);
    expect(Buffer.byteLength(mesh.content)).toBe(16 * 1024);
    expect([...run.split.sections.values()].filter((s) => s.cut).map((s) => s.name)).toEqual(['envoy-clusters-active', 'mesh-config']);
    expect(parseVmSnapshot(run.stdout).serverInfo.ok).toBe(true);
  });

  it('reads only the tail of a huge log and cuts the latest line to 512 bytes', async () => {
    const long = `2026-11-26T07:00:00.000000Z\terror\tfailed to warm certificate: ${'x'.repeat(2000)}`;
    const run = await runScenario({ logFillerLines: 5000, logLines: [long] }, 'busybox');
    expectWellFormed(run);
    const logs = section(run.split, 'logs').content;
    expect(logs).toContain('source istio.log ok 2000\n');
    expect(logs).toContain('count warm-cert 1\n');
    expect(logs).toContain(`last warm-cert ${long.slice(0, 512)}\n`);
    expect(section(run.split, 'logs').cut).toBe(false);
  });
});

describe('the diagnostic script never prints a secret', () => {
  const secrets = {
    clusterEnvExtra: [
      "VAULT_TOKEN='s3cr3t-vault'",
      'export DB_PASSWORD="hunter2-db"',
      '# AWS_SECRET_ACCESS_KEY=commented-out-secret',
      "SIGNING_KEY='first-line-of-key",
      "second-line-of-key'",
      'api_credential = spaced-credential',
      'ISTIO_META_TLS_PRIVATE=private-value',
      'ISTIO_META_AFTER=visible-value',
      '',
    ].join('\n'),
    values: [
      's3cr3t-vault',
      'hunter2-db',
      'commented-out-secret',
      'first-line-of-key',
      'second-line-of-key',
      'spaced-credential',
      'private-value',
    ],
  };

  it.each(SHELLS)('under %s: no key bytes, no token header or signature, no secret cluster.env value', async (shell) => {
    const run = await runScenario({ keyMode: 0o644, keyInCertChain: true, clusterEnvExtra: secrets.clusterEnvExtra }, shell);
    expectWellFormed(run);
    const out = run.stdout;
    const { keyPem, jwt, leafPem, rootPem } = run.vm.pki;
    expect(out).not.toContain('PRIVATE KEY');
    const keyBody = keyPem.split('\n').filter((l) => l && !l.startsWith('-----'));
    expect(keyBody.length).toBeGreaterThan(10);
    for (const line of keyBody) expect(out).not.toContain(line);
    const [header, payload, signature] = jwt.split('.');
    expect(out).not.toContain(header);
    expect(out).not.toContain(signature);
    expect(out).toContain(`\npayload=${payload}\n`);
    for (const value of secrets.values) expect(out).not.toContain(value);

    const env = section(run.split, 'cluster-env').content;
    expect(env).toContain(
      '\nVAULT_TOKEN=<redacted>\nexport DB_PASSWORD=<redacted>\n# AWS_SECRET_ACCESS_KEY=<redacted>\nSIGNING_KEY=<redacted>\napi_credential =<redacted>\nISTIO_META_TLS_PRIVATE=<redacted>\nISTIO_META_AFTER=visible-value\n',
    );
    expect(env).toContain("\nSERVICE_ACCOUNT='vm-serviceaccount'\n");
    // The key stored in cert-chain.pem is dropped and its lines counted; the certificates are kept as they are.
    const keyLines = keyPem.split('\n').filter((l) => l.trim()).length;
    expect(section(run.split, 'cert-chain-pem').content).toBe(`${leafPem}${rootPem}dropped_lines=${keyLines}\n`);
    expect(section(run.split, 'certs').content).toMatch(/\nkey_match=yes\n$/);
  });
});

describe('the diagnostic script source', () => {
  it('is clean under shellcheck -s sh', async () => {
    const shellcheck = findOnPath('shellcheck');
    expect(shellcheck, 'shellcheck is not installed: apt-get install -y shellcheck').toBeDefined();
    const result = await execFileAsync(shellcheck!, ['-s', 'sh', '-f', 'gcc', SCRIPT_PATH]).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(result).toBe('');
  });
});
