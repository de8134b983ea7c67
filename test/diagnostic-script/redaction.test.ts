import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitDiagnosticOutput, type Section } from '../../lib/core/diagnostic-output.ts';
import { parseClusterEnv } from '../../lib/core/parsers/key-value.ts';
import { parseVmSnapshot } from '../../lib/core/vm-snapshot.ts';
import { createFakeVm, SHELLS, testPki, VM, type FakeVmOptions, type RunResult, type ShellName } from './fake-vm.ts';

const FIXTURE_ENV = readFileSync(new URL('../fixtures/fake-vm/cluster.env', import.meta.url), 'utf8');
const FIXTURE_MESH = readFileSync(new URL('../fixtures/fake-vm/mesh.yaml', import.meta.url), 'utf8');

async function run(options: FakeVmOptions, shell: ShellName): Promise<RunResult & { sections: Map<string, Section> }> {
  const vm = await createFakeVm(options);
  try {
    const result = await vm.run(shell, { deadlineMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const split = splitDiagnosticOutput(result.stdout);
    expect(split.problems).toEqual([]);
    return { ...result, sections: split.sections };
  } finally {
    await vm.close();
  }
}

function content(sections: Map<string, Section>, name: string): string {
  const section = sections.get(name);
  if (!section) throw new Error(`section ${name} is missing`);
  return section.content;
}

/** Each case: cluster.env lines, the secrets they hold, and what the script must print for them. */
const ENV_CASES: Array<{ lines: string[]; secrets: string[]; printed: string[] }> = [
  // A second assignment on the line.
  { lines: ["CA_ADDR='x'; API_TOKEN='semicolon-token'"], secrets: ['semicolon-token'], printed: ['CA_ADDR=<redacted>'] },
  { lines: ['FOO=bar DB_PASSWORD=second-assignment-password'], secrets: ['second-assignment-password'], printed: ['FOO=<redacted>'] },
  { lines: ['export A=1 MY_SECRET=export-second-secret'], secrets: ['export-second-secret'], printed: ['export A=<redacted>'] },
  // A quote that opens inside the value.
  {
    lines: ["SSH_KEY=pre'fix-of-key", "mid-quote-second-line'"],
    secrets: ['fix-of-key', 'mid-quote-second-line'],
    printed: ['SSH_KEY=<redacted>'],
  },
  // An escaped quote is no closing quote.
  {
    lines: ['PRIVATE_CERT="abc\\"escaped-quote-secret', 'escaped-quote-second-line"'],
    secrets: ['escaped-quote-secret', 'escaped-quote-second-line'],
    printed: ['PRIVATE_CERT=<redacted>'],
  },
  // A backslash-newline continues the value, even twice.
  {
    lines: ['AUTH_TOKEN=abc\\', 'continued-line-secret\\', 'continued-again-secret'],
    secrets: ['continued-line-secret', 'continued-again-secret'],
    printed: ['AUTH_TOKEN=<redacted>'],
  },
  // A name cut by a backslash-newline is the shell's MY_TOKEN.
  { lines: ['MY_TOK\\', 'EN=split-name-secret'], secrets: ['split-name-secret'], printed: ['MY_TOKEN=<redacted>'] },
  // A multi-line quoted value ends where its quote closes: the next line is shown.
  {
    lines: ['DB_CREDENTIAL="first-line-credential', 'second-line-credential, it\'s \\" still quoted"', 'AFTER_QUOTED=visible-after-quoted'],
    secrets: ['first-line-credential', 'second-line-credential'],
    printed: ['DB_CREDENTIAL=<redacted>', 'AFTER_QUOTED=visible-after-quoted'],
  },
  // A comment's apostrophe opens nothing, on its own line or after a value.
  {
    lines: [
      "# the token's rotation is manual",
      "ROTATION_NOTE=manual # don't",
      'NEXT_TOKEN=after-comment-token',
      'AFTER_COMMENT=visible-after-comment',
    ],
    secrets: ['after-comment-token'],
    printed: [
      "# the token's rotation is manual",
      "ROTATION_NOTE=manual # don't",
      'NEXT_TOKEN=<redacted>',
      'AFTER_COMMENT=visible-after-comment',
    ],
  },
  {
    lines: ["# OLD_PASSWORD='commented-out-open-quote", 'AFTER_COMMENTED=visible-after-commented'],
    secrets: ['commented-out-open-quote'],
    printed: ['# OLD_PASSWORD=<redacted>', 'AFTER_COMMENTED=visible-after-commented'],
  },
  // The forms the script has always redacted.
  {
    lines: ["VAULT_TOKEN='s3cr3t-vault'", 'api_credential = spaced-credential', 'ISTIO_META_TLS_PRIVATE=private-value'],
    secrets: ['s3cr3t-vault', 'spaced-credential', 'private-value'],
    printed: ['VAULT_TOKEN=<redacted>', 'api_credential =<redacted>', 'ISTIO_META_TLS_PRIVATE=<redacted>'],
  },
];

const MESH = `${FIXTURE_MESH.replace(
  '    CANONICAL_SERVICE: foo\n',
  [
    '    CANONICAL_SERVICE: foo',
    '    ISTIO_META_DB_TOKEN: mesh-token-value',
    '    DB_PASSWORD: "mesh-password-value"',
    '    SIGNING_KEY: |',
    '      mesh-block-line-one',
    '',
    '      mesh-block-line-two',
    "    API_CREDENTIAL: 'mesh-quoted-start",
    "      mesh-quoted-continued, it''s'",
    '    SESSION_SECRET:',
    '      nested: mesh-nested-secret',
    '    AFTER_THEM: visible-in-mesh',
    '    ISTIO_META_OTHER: {INLINE_TOKEN: mesh-flow-secret}',
    '',
  ].join('\n'),
)}`;
const MESH_SECRETS = [
  'mesh-token-value',
  'mesh-password-value',
  'mesh-block-line-one',
  'mesh-block-line-two',
  'mesh-quoted-start',
  'mesh-quoted-continued',
  'mesh-nested-secret',
  'mesh-flow-secret',
];

const METADATA = {
  ISTIO_META_DB_TOKEN: 'metadata-token-value',
  DB_PASSWORD: 'metadata-password-value',
  API_SECRETS: { first: 'metadata-object-secret', list: ['metadata-list-in-object'] },
  TLS_PRIVATE: ['metadata-array-secret'],
  SIGNING_KEY: 12345678901,
  PROXY_CONFIG: {
    discoveryAddress: 'istiod.istio-system.svc:15012',
    proxyMetadata: { ISTIO_META_DB_TOKEN: 'nested-proxy-config-token', VISIBLE: 'proxy-config-visible' },
  },
  EMPTY_TOKEN: {},
  LAST_CREDENTIAL: 'metadata-last-credential',
};
const METADATA_SECRETS = [
  'metadata-token-value',
  'metadata-password-value',
  'metadata-object-secret',
  'metadata-list-in-object',
  'metadata-array-secret',
  '12345678901',
  'nested-proxy-config-token',
  'metadata-last-credential',
];

describe('the diagnostic script redacts every secret-looking value', () => {
  const outputs = new Map<ShellName, RunResult & { sections: Map<string, Section> }>();
  beforeAll(async () => {
    const envLines = ENV_CASES.flatMap((c) => c.lines);
    const options: FakeVmOptions = {
      clusterEnvExtra: `${envLines.join('\n')}\nLAST_LINE=visible-last\n`,
      meshConfig: MESH,
      envoyMetadata: METADATA,
    };
    for (const shell of SHELLS) outputs.set(shell, await run(options, shell));
  });
  const output = (shell: ShellName) => {
    const found = outputs.get(shell);
    if (!found) throw new Error(`no run under ${shell}`);
    return found;
  };

  it.each(SHELLS)('under %s: in cluster.env, on every line of every logical line', (shell) => {
    const out = output(shell);
    for (const secret of ENV_CASES.flatMap((c) => c.secrets)) expect(out.stdout).not.toContain(secret);
    // Non-secret lines come out byte for byte; each case prints exactly what it says, in order.
    const env = content(out.sections, 'cluster-env');
    expect(env).toBe(`${FIXTURE_ENV}${ENV_CASES.flatMap((c) => c.printed).join('\n')}\nLAST_LINE=visible-last\n`);
    expect(parseClusterEnv(env).get('LAST_LINE')).toBe('visible-last');
  });

  it.each(SHELLS)('under %s: in the mesh config, which stays YAML', (shell) => {
    const out = output(shell);
    for (const secret of MESH_SECRETS) expect(out.stdout).not.toContain(secret);
    const config = load(content(out.sections, 'mesh-config')) as {
      defaultConfig: { proxyMetadata: Record<string, unknown>; readinessProbe: unknown };
    };
    expect(config.defaultConfig.proxyMetadata).toMatchObject({
      CANONICAL_SERVICE: 'foo',
      ISTIO_META_DB_TOKEN: '<redacted>',
      DB_PASSWORD: '<redacted>',
      SIGNING_KEY: '<redacted>',
      API_CREDENTIAL: '<redacted>',
      SESSION_SECRET: '<redacted>',
      AFTER_THEM: 'visible-in-mesh',
      ISTIO_META_OTHER: '<redacted>',
      TRUST_DOMAIN: '',
    });
    expect(config.defaultConfig.readinessProbe).toEqual({ httpGet: { port: 8080 } });
  });

  it.each(SHELLS)("under %s: in Envoy's node metadata, which stays JSON", (shell) => {
    const out = output(shell);
    for (const secret of METADATA_SECRETS) expect(out.stdout).not.toContain(secret);
    const info = JSON.parse(content(out.sections, 'envoy-server-info')) as { node: { metadata: Record<string, unknown> } };
    expect(info.node.metadata).toEqual({
      ISTIO_VERSION: VM.istioVersion,
      NAMESPACE: VM.namespace,
      CLUSTER_ID: 'Kubernetes',
      SERVICE_ACCOUNT: VM.serviceAccount,
      ISTIO_META_DB_TOKEN: '<redacted>',
      DB_PASSWORD: '<redacted>',
      API_SECRETS: '<redacted>',
      TLS_PRIVATE: '<redacted>',
      SIGNING_KEY: '<redacted>',
      PROXY_CONFIG: {
        discoveryAddress: 'istiod.istio-system.svc:15012',
        proxyMetadata: { ISTIO_META_DB_TOKEN: '<redacted>', VISIBLE: 'proxy-config-visible' },
      },
      EMPTY_TOKEN: '<redacted>',
      LAST_CREDENTIAL: '<redacted>',
    });
    const snapshot = parseVmSnapshot(out.stdout);
    expect(snapshot.serverInfo.ok && snapshot.serverInfo.value.istioVersion).toBe(VM.istioVersion);
  });

  it('keeps a file without a final newline as it is in the mesh config and server_info', async () => {
    const out = await run({ meshConfig: 'defaultConfig:\n  proxyMetadata:\n    LAST_TOKEN: no-final-newline' }, 'dash');
    expect(content(out.sections, 'mesh-config')).toBe('defaultConfig:\n  proxyMetadata:\n    LAST_TOKEN: <redacted>');
    expect(content(out.sections, 'envoy-server-info')).toMatch(/\n}$/);
  });
});

describe('the diagnostic script keeps only certificates of a PEM file', () => {
  it.each(SHELLS)('under %s: whatever the indentation of the markers around a key', async (shell) => {
    const pki = await testPki();
    const indent = (pem: string, by: string) =>
      pem
        .split('\n')
        .map((l) => (l ? `${by}${l}` : l))
        .join('\n');
    const endIndented = pki.leafPem.replace('-----END CERTIFICATE-----', ' -----END CERTIFICATE-----');
    const chain = [
      endIndented,
      indent(pki.keyPem, ' '),
      pki.rootPem,
      // A key inside a certificate block that never ended.
      '-----BEGIN CERTIFICATE-----\n',
      pki.otherKeyPem.replace('-----BEGIN PRIVATE KEY-----', '\t-----BEGIN RSA PRIVATE KEY-----'),
      '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n',
      // Not a proper BEGIN line: nothing resumes there.
      ' -----BEGIN CERTIFICATE-----\nnot-a-certificate-line\n',
    ].join('');
    const out = await run({ certificates: { chainPem: chain, rootPem: pki.rootPem, keyPem: pki.keyPem, mtime: 1764138000 } }, shell);
    expect(out.stdout).not.toContain('PRIVATE KEY');
    expect(out.stdout).not.toContain('EC PARAMETERS');
    expect(out.stdout).not.toContain('BggqhkjOPQMBBw');
    expect(out.stdout).not.toContain('not-a-certificate-line');
    for (const key of [pki.keyPem, pki.otherKeyPem]) {
      for (const line of key.split('\n').filter((l) => l && !l.startsWith('-----'))) expect(out.stdout).not.toContain(line);
    }
    // Blanks around a marker are dropped; every line outside the two certificates is counted.
    const nonBlank = (text: string) => text.split('\n').filter((l) => l.trim()).length;
    const dropped = nonBlank(chain) - nonBlank(pki.leafPem) - nonBlank(pki.rootPem);
    expect(content(out.sections, 'cert-chain-pem')).toBe(`${pki.leafPem}${pki.rootPem}dropped_lines=${dropped}\n`);
  });
});
