import { describe, expect, it } from 'vitest';
import { splitDiagnosticOutput, type Section } from '../../lib/core/diagnostic-output.ts';
import { parseVmSnapshot, type VmSnapshot } from '../../lib/core/vm-snapshot.ts';
import { createFakeVm, SHELLS, type FakeVmOptions, type ShellName } from './fake-vm.ts';

// Every VM layout Istio itself supports, run through the real script under each shell and parsed.
async function run(options: FakeVmOptions, shell: ShellName): Promise<{ sections: Map<string, Section>; snapshot: VmSnapshot; calls: string[] }> {
  const vm = await createFakeVm(options);
  try {
    const result = await vm.run(shell, { deadlineMs: 20_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return { sections: splitDiagnosticOutput(result.stdout).sections, snapshot: parseVmSnapshot(result.stdout), calls: vm.calls() };
  } finally {
    await vm.close();
  }
}

const SECRET_LINES = ["VAULT_TOKEN='s3cr3t-vault'", 'export DB_PASSWORD="hunter2-db"', 'AUTH_TOKEN=abc\\', 'def', "ISTIO_META_AFTER='visible'", ''].join('\n');

describe('sidecar.env', () => {
  it.each(SHELLS)('under %s: is collected, redacted as cluster.env is, and read under cluster.env', async (shell) => {
    const sidecarEnv = `# local overrides\nISTIO_CUSTOM_IP_TABLES=true\nISTIO_NAMESPACE=overridden\nOUTPUT_CERTS=/var/lib/istio/certs\n${SECRET_LINES}`;
    const out = await run({ sidecarEnv, clusterEnvExtra: SECRET_LINES }, shell);
    const sidecar = out.sections.get('sidecar-env');
    expect(sidecar).toMatchObject({ rc: 0, cut: false, missing: [] });
    const redacted = "VAULT_TOKEN=<redacted>\nexport DB_PASSWORD=<redacted>\nAUTH_TOKEN=<redacted>\nISTIO_META_AFTER='visible'\n";
    expect(sidecar?.content).toBe(`# local overrides\nISTIO_CUSTOM_IP_TABLES=true\nISTIO_NAMESPACE=overridden\nOUTPUT_CERTS=/var/lib/istio/certs\n${redacted}`);
    // One redaction for both files: the same lines come out the same.
    expect(out.sections.get('cluster-env')?.content.endsWith(redacted)).toBe(true);
    for (const secret of ['s3cr3t-vault', 'hunter2-db', 'abc', 'def']) expect(sidecar?.content).not.toMatch(new RegExp(`=${secret}|^${secret}$`, 'm'));
    const env = out.snapshot.clusterEnv.ok ? out.snapshot.clusterEnv.value : undefined;
    // cluster.env wins on a variable both set; one only sidecar.env sets counts.
    expect(env?.get('ISTIO_NAMESPACE')).toBe('bar');
    expect(env?.get('ISTIO_CUSTOM_IP_TABLES')).toBe('true');
    expect(env?.get('OUTPUT_CERTS')).toBe('/var/lib/istio/certs');
  });

  it('is an empty section with rc 1 when the VM has none, and adds nothing', async () => {
    const out = await run({}, 'dash');
    expect(out.sections.get('sidecar-env')).toMatchObject({ content: '', rc: 1, cut: false });
    expect(out.snapshot.clusterEnv.ok && out.snapshot.clusterEnv.value.get('ISTIO_NAMESPACE')).toBe('bar');
  });
});
