import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitDiagnosticOutput, type Section } from '../../lib/core/diagnostic-output.ts';
import {
  createFakeVm,
  SCRIPT_SECTIONS,
  SHELLS,
  type FakeVm,
  type FakeVmOptions,
  type RunOptions,
  type RunResult,
  type ShellName,
} from './fake-vm.ts';

/**
 * Far longer than any run of the script on a fake VM, even with hung tools bounded at a second or less,
 * on a busy machine; far shorter than a hung tool (120 s) or a hung read.
 */
const DEADLINE_MS = 90_000;

/**
 * The sections whose rc this file follows: every one the script prints on the fake VM but sidecar-env (the fake VM
 * has no sidecar.env, so its rc is 1) and hosts.
 */
const SECTIONS = SCRIPT_SECTIONS.filter((name) => name !== 'sidecar-env' && name !== 'hosts');
const CURL_SECTIONS = SECTIONS.filter((name) => name === 'readiness' || name.startsWith('envoy-'));
const IPTABLES_SECTIONS = SECTIONS.filter((name) => name.includes('tables-'));

/** Every tool the script runs under its timeout on the fake VM, in the order it first runs them. */
const TOOLS = ['hostname', 'id', 'systemctl', 'curl', 'journalctl', ...IPTABLES_SECTIONS, 'stat', 'openssl', 'dpkg-query', 'pilot-agent'];

/** Every file the script reads, as a root-relative path. */
const READ_FILES = [
  'etc/os-release',
  'var/log/istio/istio.log',
  'var/log/istio/istio.err.log',
  'var/lib/istio/envoy/cluster.env',
  'etc/istio/config/mesh',
  'proc/net/ip_tables_names',
  'proc/modules',
  'etc/certs/cert-chain.pem',
  'etc/certs/root-cert.pem',
  'var/run/secrets/tokens/istio-token',
];

interface Outcome extends RunResult {
  sections: Map<string, Section>;
  calls: string[];
  tmpLeft: string[];
}

async function run(options: FakeVmOptions, shell: ShellName, how: RunOptions = {}): Promise<Outcome> {
  const vm: FakeVm = await createFakeVm(options);
  try {
    const result = await vm.run(shell, { deadlineMs: DEADLINE_MS, ...how });
    return { ...result, sections: splitDiagnosticOutput(result.stdout).sections, calls: vm.calls(), tmpLeft: readdirSync(vm.tmp) };
  } finally {
    await vm.close();
  }
}

function section(out: Outcome, name: string): Section {
  const found = out.sections.get(name);
  if (!found) throw new Error(`section ${name} is missing; stdout: ${out.stdout.slice(0, 2000)}`);
  return found;
}

function expectFinished(out: Outcome): void {
  expect(out.code, `the script did not finish (stderr: ${out.stderr})`).toBe(0);
  expect(out.stderr).toBe('');
  expect(out.stdout).toMatch(/ DONE sections=\d+\n$/);
  expect(out.tmpLeft).toEqual([]);
}

/** What the script says of files it must not read: absent-like, never their bytes. */
function expectSkipped(out: Outcome): void {
  expect(section(out, 'identity').content).toContain('\nos=\n');
  const logs = section(out, 'logs').content;
  expect(logs).toContain('source istio.log error 0\n');
  expect(logs).toContain('source istio.err.log error 0\n');
  expect(section(out, 'cluster-env')).toMatchObject({ content: '', rc: 1, cut: false });
  expect(section(out, 'mesh-config')).toMatchObject({ content: '', rc: 1, cut: false });
  expect(section(out, 'cert-chain-pem')).toMatchObject({ content: '', rc: 1, cut: false });
  expect(section(out, 'root-cert-pem')).toMatchObject({ content: '', rc: 1, cut: false });
  expect(section(out, 'certs').content).toMatch(/\nkey_match=unknown\n$/);
  expect(section(out, 'token')).toMatchObject({ rc: 1 });
  expect(section(out, 'token').content).toMatch(/^present=yes\nmode=\d{4} .*\npayload=\n$/);
  // No /proc/modules to read: nf_tables counts as not loaded, so the nft tools are not asked.
  expect(out.calls.filter((c) => /^ip6?tables-(nft-)?save -t/.test(c))).toEqual([]);
}

describe('the diagnostic script reads only regular files, and each only so far', () => {
  it.each(SHELLS)('under %s: named pipes in place of the files it reads do not block it', async (shell) => {
    const out = await run({ special: Object.fromEntries(READ_FILES.map((f) => [f, 'fifo'])) }, shell);
    expectFinished(out);
    expectSkipped(out);
  });

  it.each(SHELLS)('under %s: links to /dev/zero in place of the files it reads do not fill the disk or the memory', async (shell) => {
    // 64 MiB of file and 1 GiB of memory are far more than a run needs, and stop a run reading /dev/zero to the end.
    const out = await run({ special: Object.fromEntries(READ_FILES.map((f) => [f, 'dev-zero'])) }, shell, {
      fileSizeBlocks: 131072,
      memoryKb: 1048576,
    });
    expectFinished(out);
    expectSkipped(out);
  });

  it('flags a file longer than it reads as cut, even when what it prints of it is short', async () => {
    // 70 KB of secret lines, each printed in a few bytes once redacted.
    const bulk = Array.from({ length: 70 }, (_, i) => `BULK_TOKEN_${i}=${'x'.repeat(1000)}\n`).join('');
    const out = await run({ clusterEnvExtra: `${bulk}AFTER_BOUND=unseen\n` }, 'dash');
    expectFinished(out);
    expect(section(out, 'cluster-env')).toMatchObject({ cut: true, rc: 0 });
    expect(Buffer.byteLength(section(out, 'cluster-env').content)).toBeLessThan(4096);
    expect(out.stdout).not.toContain('AFTER_BOUND');
  });
});

describe('the diagnostic script bounds each command that can hang', () => {
  const HUNG = ['systemctl', 'journalctl', 'id', 'dpkg-query', 'openssl'];

  it.concurrent.each([
    ['dash', 'coreutils', 0.3],
    ['busybox', 'busybox', 1],
    ['bash', 'busybox', 1],
  ] as const)(
    'under %s with %s timeout: a hung tool ends its section with rc 124, and the script goes on',
    async (shell, tool, seconds) => {
      const out = await run({ hang: HUNG, timeout: { tool, seconds } }, shell);
      expectFinished(out);
      expect(section(out, 'systemd')).toMatchObject({ content: '', rc: 124 });
      expect(section(out, 'identity').rc).toBe(124);
      expect(section(out, 'identity').content).toContain('\nproxy_uid=\nproxy_gid=\n');
      expect(section(out, 'logs').rc).toBe(124);
      expect(section(out, 'logs').content).toMatch(/^source journal error 0\nsource istio\.log ok 5\n/);
      expect(section(out, 'versions').rc).toBe(124);
      expect(section(out, 'certs').rc).toBe(124);
      expect(section(out, 'certs').content).toMatch(/\nkey_match=unknown\n$/);
      // A timed-out tool is not asked again: no fallback, no second query.
      for (const name of HUNG)
        expect(
          out.calls.filter((c) => c.startsWith(`${name} `)),
          name,
        ).toHaveLength(1);
      // Sections whose tools answer keep their rc.
      expect(section(out, 'readiness').rc).toBe(0);
      expect(section(out, 'iptables-save').rc).toBe(0);
    },
  );

  it('bounds its tools with a watcher (sleep and kill), with the same output, on a VM without timeout', async () => {
    // With a sidecar.env each, so that every section has something to read (an absent file is rc 1).
    const sidecarEnv = 'ISTIO_AGENT_FLAGS=--log_output_level=default:info\n';
    const [without, withTimeout] = await Promise.all([
      run({ without: ['timeout'], sidecarEnv }, 'busybox'),
      run({ sidecarEnv }, 'busybox'),
    ]);
    expectFinished(without);
    // Two VMs: their files were written at different times, their agents listen on different ports.
    const normalise = (text: string) =>
      text
        .replace(/@@fa-[0-9a-f]{16}/g, '@@fa-X')
        .replace(/^clock=\d+$/m, 'clock=N')
        .replace(/ mtime=\d+/g, ' mtime=N')
        .replace(/^url=.*$/m, 'url=U');
    expect(normalise(without.stdout)).toBe(normalise(withTimeout.stdout));
    expect([...without.sections.values()].filter((s) => s.rc !== 0).map((s) => s.name)).toEqual([]);
  });
});

/** What a run prints of each section, and which tools it called, beside what it was expected to print. */
function expectRcs(out: Outcome, timedOut: readonly string[]): void {
  for (const name of SECTIONS) expect(section(out, name).rc, name).toBe(timedOut.includes(name) ? 124 : 0);
}

const called = (out: Outcome, tool: string) => out.calls.filter((c) => c.startsWith(`${tool} `));

describe('the diagnostic script with one tool that never answers', () => {
  const CASES: Array<{ hang: string[]; timedOut: string[] }> = [
    { hang: ['hostname'], timedOut: ['identity'] },
    // hostname -I gives nothing: ip is asked instead.
    { hang: ['hostname', 'ip'], timedOut: ['identity'] },
    { hang: ['id'], timedOut: ['identity'] },
    { hang: ['systemctl'], timedOut: ['systemd'] },
    { hang: ['curl'], timedOut: CURL_SECTIONS },
    { hang: ['journalctl'], timedOut: ['logs'] },
    { hang: ['iptables-save'], timedOut: ['iptables-save'] },
    { hang: ['ip6tables-nft-save'], timedOut: ['ip6tables-nft-save'] },
    { hang: ['stat'], timedOut: ['certs', 'token'] },
    { hang: ['openssl'], timedOut: ['certs'] },
    { hang: ['dpkg-query'], timedOut: ['versions'] },
    { hang: ['pilot-agent'], timedOut: ['versions'] },
  ];

  it.each(CASES.map((c, i) => ({ ...c, shell: SHELLS[i % SHELLS.length]!, tool: c.hang.at(-1)! })))(
    'under $shell: $tool times out, its sections say rc 124, every other section is printed as usual',
    async ({ hang, timedOut, shell, tool }) => {
      const out = await run({ hang, timeout: { tool: 'coreutils', seconds: 0.3 } }, shell);
      expectFinished(out);
      expectRcs(out, timedOut);
      // Asked once, then reported as timed out without being asked again.
      expect(called(out, tool)).toHaveLength(1);
      expect(section(out, 'cluster-env').content).toContain("SERVICE_ACCOUNT='vm-serviceaccount'");
    },
  );

  it('reports what it read without the tool: the identity without the proxy user, the certificates without the key match', async () => {
    const out = await run({ hang: ['id', 'openssl', 'stat'], timeout: { tool: 'coreutils', seconds: 0.3 } }, 'dash');
    expectFinished(out);
    expect(section(out, 'identity').content).toMatch(/^hostname=foo-1\nips=10\.10\.10\.10 fd00:10::10\n.*\nproxy_uid=\nproxy_gid=\n/s);
    expect(section(out, 'certs').content).toBe(
      'location=/etc/certs source=default\nfile name=cert-chain.pem\nfile name=key.pem\nfile name=root-cert.pem\nkey_match=unknown\n',
    );
    expect(section(out, 'token').content).toMatch(/^present=yes\npayload=[A-Za-z0-9_-]+\n$/);
  });
});

describe('the diagnostic script keeps within its budget whatever its tools do', () => {
  const ALL: FakeVmOptions = { hang: TOOLS, timeout: { tool: 'coreutils', seconds: 1 } };

  it('stops running tools once the budget is spent, and reports their sections as timed out', async () => {
    const out = await run(ALL, 'dash', { env: { FLEET_AUDIT_BUDGET: '3' } });
    expectFinished(out);
    // The first tools ran, and timed out, until the 3 s were spent; the last ones never ran.
    expect(called(out, 'hostname')).toHaveLength(1);
    for (const tool of ['journalctl', 'stat', 'openssl', 'dpkg-query', 'pilot-agent', ...IPTABLES_SECTIONS])
      expect(called(out, tool), tool).toEqual([]);
    expectRcs(
      out,
      SECTIONS.filter((name) => !['cluster-env', 'mesh-config', 'cert-chain-pem', 'root-cert-pem'].includes(name)),
    );
    // The files are read all the same.
    expect(section(out, 'mesh-config').content).toContain('discoveryAddress: istiod-rev-1.istio-system.svc:15012');
    expect(section(out, 'cert-chain-pem').content).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('measures the budget by the clock: once it says the budget is spent, no tool is run, even one that would answer', async () => {
    // Every read of the clock is 50 s later: the start, hostname -s at 50 s, hostname -I at 100 s, and
    // the budget is spent at 150 s, before id.
    const out = await run({ clockStep: 50 }, 'dash');
    expectFinished(out);
    expect(called(out, 'hostname')).toHaveLength(2);
    for (const tool of TOOLS.slice(1)) expect(called(out, tool), tool).toEqual([]);
    expectRcs(
      out,
      SECTIONS.filter((name) => !['cluster-env', 'mesh-config', 'cert-chain-pem', 'root-cert-pem'].includes(name)),
    );
    expect(section(out, 'identity').content).toMatch(/^hostname=foo-1\nips=10\.10\.10\.10 fd00:10::10\n.*\nproxy_uid=\nproxy_gid=\n/s);
  });

  it('counts the seconds given to tools that timed out where it has no clock', async () => {
    // The timeout shim ends each hung tool in 0.3 s; without date, each counts as the 10 s it was given,
    // and 12 of them spend the 120 s budget.
    const out = await run({ ...ALL, timeout: { tool: 'coreutils', seconds: 0.3 }, without: ['date'] }, 'busybox');
    expectFinished(out);
    for (const tool of TOOLS.slice(0, 12)) expect(called(out, tool), tool).toHaveLength(1);
    for (const tool of TOOLS.slice(12)) expect(called(out, tool), tool).toEqual([]);
    expect(section(out, 'versions').rc).toBe(124);
    expect(section(out, 'certs').content).toMatch(/\nkey_match=unknown\n$/);
  });

  it.each(['dash', 'busybox'] as const)(
    'under %s without timeout: a watcher kills a hung tool, even one that ignores TERM',
    async (shell) => {
      const out = await run({ hang: ['systemctl', 'pilot-agent'], hangIgnoresTerm: true, without: ['timeout'] }, shell, {
        env: { FLEET_AUDIT_TOOL_TIMEOUT: '1' },
      });
      expectFinished(out);
      expectRcs(out, ['systemd', 'versions']);
      expect(section(out, 'versions').content).toBe('package_manager=dpkg\npackage_version=1.24.6\npilot_agent_version=\n');
    },
  );
});
