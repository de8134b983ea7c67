import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitDiagnosticOutput, type Section } from '../../lib/core/diagnostic-output.ts';
import { createFakeVm, SHELLS, type FakeVm, type FakeVmOptions, type RunOptions, type RunResult, type ShellName } from './fake-vm.ts';

/** Longer than any run of the script on a fake VM, far shorter than a hung read. */
const DEADLINE_MS = 20_000;

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
    const out = await run({ special: Object.fromEntries(READ_FILES.map((f) => [f, 'dev-zero'])) }, shell, { fileSizeBlocks: 131072, memoryKb: 1048576 });
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
  ] as const)('under %s with %s timeout: a hung tool ends its section with rc 124, and the script goes on', async (shell, tool, seconds) => {
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
    for (const name of HUNG) expect(out.calls.filter((c) => c.startsWith(`${name} `)), name).toHaveLength(1);
    // Sections whose tools answer keep their rc.
    expect(section(out, 'readiness').rc).toBe(0);
    expect(section(out, 'iptables-save').rc).toBe(0);
  });

  it('runs its tools directly, with the same output, on a VM without timeout', async () => {
    // With a sidecar.env each, so that every section has something to read (an absent file is rc 1).
    const sidecarEnv = 'ISTIO_AGENT_FLAGS=--log_output_level=default:info\n';
    const [without, withTimeout] = await Promise.all([run({ without: ['timeout'], sidecarEnv }, 'busybox'), run({ sidecarEnv }, 'busybox')]);
    expectFinished(without);
    // Two VMs: their files were written at different times, their agents listen on different ports.
    const normalise = (text: string) =>
      text.replace(/@@fa-[0-9a-f]{16}/g, '@@fa-X').replace(/^clock=\d+$/m, 'clock=N').replace(/ mtime=\d+/g, ' mtime=N').replace(/^url=.*$/m, 'url=U');
    expect(normalise(without.stdout)).toBe(normalise(withTimeout.stdout));
    expect([...without.sections.values()].filter((s) => s.rc !== 0).map((s) => s.name)).toEqual([]);
  });
});
