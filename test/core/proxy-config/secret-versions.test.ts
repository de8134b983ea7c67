import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ISTIOCTL_VERSIONS, type IstioctlVersion } from '../../../lib/core/istioctl-version.ts';
import { parseSecretsDump, type SecretEntry } from '../../../lib/core/proxy-config/secrets-dump.ts';
import { renderSecretsTable } from '../../../lib/core/proxy-config/secrets-table.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/proxy-config/${name}`, import.meta.url), 'utf8');

function secretsOf(name: string): SecretEntry[] {
  const parsed = parseSecretsDump(fixture(name));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value.secrets;
}

// After every leaf of the upstream dumps expired (2024-10-27) and before their roots do (2033).
const NOW = new Date('2026-01-01T00:00:00Z');
const from = (first: IstioctlVersion, last: IstioctlVersion = '1.29'): IstioctlVersion[] =>
  ISTIOCTL_VERSIONS.slice(ISTIOCTL_VERSIONS.indexOf(first), ISTIOCTL_VERSIONS.indexOf(last) + 1);

describe('renderSecretsTable by istioctl version', () => {
  it.each(from('1.24', '1.28'))("prints %s's table of the Istio dump as upstream's 1.24.6 and 1.25.0 goldens", (version) => {
    expect(renderSecretsTable(secretsOf('secret-config-dump.json'), NOW, { version })).toBe(fixture('secret-output.txt'));
  });

  it('pads the serial to 32 hex digits from 1.29 on', () => {
    const lines = renderSecretsTable(secretsOf('secret-config-dump.json'), NOW, { version: '1.29' }).split('\n');
    expect(lines[2]).toMatch(/^ROOTCA\s+CA\s+ACTIVE\s+true\s+0193a543fe2b0d9cd4847675394dfc54\s/);
  });

  it.each(from('1.25'))(
    "prints %s's SPIRE table: one ROOTCA row per trust domain and a TRUST DOMAIN column (upstream 1.25.0 golden)",
    (version) => {
      expect(renderSecretsTable(secretsOf('secret-spire-config-dump.json'), NOW, { version })).toBe(
        fixture('secret-spire-output-1.25.txt'),
      );
    },
  );

  it('prints the SPIRE ROOTCA as one blank row in the 1.24 layout, which reads no trust bundle', () => {
    const lines = renderSecretsTable(secretsOf('secret-spire-config-dump.json'), NOW, { version: '1.24' }).split('\n');
    expect(lines[0]).not.toContain('TRUST DOMAIN');
    expect(lines.slice(1, -1).map((l) => l.trimEnd().split(/ {2,}/))).toEqual([
      ['default', 'Cert Chain', 'ACTIVE', 'false', 'cd4902e499169b11ec171dad1668adbb', '2024-10-27T22:44:37Z', '2024-10-27T21:44:27Z'],
      ['ROOTCA', 'ACTIVE', 'false'],
    ]);
  });

  it.each(from('1.26', '1.28'))("prints %s's table of a dump with a warming secret without content (upstream 1.26.0 golden)", (version) => {
    expect(renderSecretsTable(secretsOf('secret-warming-config-dump.json'), NOW, { version })).toBe(
      fixture('secret-warming-output-1.26.txt'),
    );
  });

  it('prints the 1.29 golden of the same dump', () => {
    expect(renderSecretsTable(secretsOf('secret-warming-config-dump.json'), NOW, { version: '1.29' })).toBe(
      fixture('secret-warming-output-1.29.txt'),
    );
  });

  it('keeps the secret without content in the 1.25 layout, which istioctl 1.25.x leaves out', () => {
    expect(renderSecretsTable(secretsOf('secret-warming-config-dump.json'), NOW, { version: '1.25' })).toBe(
      fixture('secret-warming-output-1.26.txt'),
    );
  });

  it.each(ISTIOCTL_VERSIONS)('keeps UNINITIALIZED for an active secret Envoy has not received in the %s layout', (version) => {
    const dump = JSON.parse(fixture('secret-config-dump.json')) as { configs: { dynamic_active_secrets: Record<string, unknown>[] }[] };
    dump.configs[0]!.dynamic_active_secrets[0]!.version_info = 'uninitialized';
    const parsed = parseSecretsDump(JSON.stringify(dump));
    expect(parsed.ok && renderSecretsTable(parsed.value.secrets, NOW, { version }).split('\n')[1]).toMatch(
      /^default\s+Cert Chain\s+UNINITIALIZED\s/,
    );
  });

  it('adds TRUST DOMAIN only when every row has one, from the spiffe:// URI SAN of a leaf', () => {
    const [leaf] = secretsOf('secret-spire-config-dump.json');
    expect(leaf!.trustDomain).toBe('east.local');
    const table = renderSecretsTable([leaf!], NOW, { version: '1.25' });
    expect(table.split('\n')[0]).toMatch(/TRUST DOMAIN$/);
    expect(table.split('\n')[1]).toMatch(/\seast\.local$/);
    // The Istio root carries no SPIFFE URI: one unknown trust domain hides the column.
    const mixed = renderSecretsTable([leaf!, secretsOf('secret-config-dump.json')[1]!], NOW, { version: '1.25' });
    expect(mixed.split('\n')[0]).not.toContain('TRUST DOMAIN');
  });

  it('reads the trust bundles of a SPIFFE validator secret', () => {
    const root = secretsOf('secret-spire-config-dump.json')[1]!;
    expect(root.primary).toBeUndefined();
    expect(root.trustBundles.map((b) => [b.trustDomain, b.primary?.isCa])).toEqual([
      ['east.local', true],
      ['west.local', true],
    ]);
  });
});
