import { createHmac } from 'node:crypto';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePemCertificates } from '../../lib/core/certificates/pem.ts';
import { splitDiagnosticOutput, type Section } from '../../lib/core/diagnostic-output.ts';
import { parseClusterEnv } from '../../lib/core/parsers/key-value.ts';
import { createFakeVm, testPki, type FakeVmOptions, type Pki, type ShellName } from './fake-vm.ts';

/** A JWT (HS256) whose three segments appear nowhere else on the fake VM. */
function jwt(subject: string): string {
  const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: subject, aud: ['corp-api'], exp: 4102444800 })}`;
  return `${input}.${createHmac('sha256', subject).update(input).digest('base64url')}`;
}

const bodyLines = (pem: string) => pem.split('\n').filter((l) => l.trim() && !l.includes('-----'));
/** A key block under another label, as a mislabelled file holds it. */
const relabel = (pem: string, label: string) => pem.replace(/-----(BEGIN|END) [A-Z ]*-----/g, `-----$1 ${label}-----`);

/**
 * Every secret the corpus plants: the fragments that must not leave the VM. A key's every 16 characters
 * (by steps of 8) are fragments, so a key cut or split on the way is still caught.
 */
function fragments(pki: Pki, tokens: string[], words: string[]): string[] {
  const out = [...words];
  for (const token of tokens) out.push(...token.split('.').filter(Boolean));
  for (const line of [...bodyLines(pki.keyPem), ...bodyLines(pki.otherKeyPem)]) {
    for (let i = 0; i + 16 <= line.length; i += 8) out.push(line.slice(i, i + 16));
  }
  return out;
}

interface Corpus {
  options: FakeVmOptions;
  secrets: string[];
}

function corpus(pki: Pki): Corpus {
  const [envJwt, meshJwt, metaJwt, logJwt, plainJwt, sidecarJwt] = ['env', 'mesh', 'metadata', 'log', 'plain', 'sidecar'].map((s) =>
    jwt(`corpus-${s}`),
  ) as [string, string, string, string, string, string];
  const key = bodyLines(pki.keyPem);
  const other = bodyLines(pki.otherKeyPem);
  const basic = Buffer.from('corp-user:hunter2-basic').toString('base64');
  const clusterEnvExtra = [
    `XDS_AUTH_HEADER='Authorization: Bearer ${envJwt}'`,
    'HTTP_PROXY=http://proxyuser:hunter2-env@proxy.corp:3128',
    `HTTPS_PROXY='https://ghp-env-userinfo@proxy.corp:3129/'`,
    `OIDC_HINT=${plainJwt}`,
    `UPSTREAM_HEADERS="authorization=Basic ${basic}"`,
    `CA_BUNDLE="${pki.rootPem}${relabel(pki.otherKeyPem, 'CERTIFICATE')}"`,
    `TRAILER='-----END CERTIFICATE-----${key[0]}'`,
    `BARE=${key[1]}`,
    'AFTER_CORPUS=visible-after-corpus',
    // Longer than the 4096 bytes a line is redacted on: cut there.
    `LONG_LINE=${'a.b '.repeat(2000)}beyond-the-bound`,
    '',
  ].join('\n');
  // sidecar.env, which istio-start.sh sources before cluster.env, goes through the same redaction.
  const sidecarEnv = [
    `XDS_AUTH_HEADER="Authorization: Bearer ${sidecarJwt}"`,
    'HTTPS_PROXY=http://sideuser:hunter2-sidecar@proxy.corp:3128',
    'SIDECAR_AFTER=visible-in-sidecar',
    '',
  ].join('\n');
  const meshConfig = [
    'defaultConfig:',
    '  discoveryAddress: istiod-rev-1.istio-system.svc:15012',
    '  proxyMetadata:',
    '    CANONICAL_SERVICE: foo',
    `    XDS_AUTH_HEADER: "Authorization: Bearer ${meshJwt}"`,
    '    HTTP_PROXY: http://meshuser:hunter2-mesh@proxy.corp:3128',
    '    CA_BUNDLE: |',
    ...pki.rootPem
      .trim()
      .split('\n')
      .map((l) => `      ${l}`),
    ...relabel(pki.keyPem, 'RSA PRIVATE KEY')
      .trim()
      .split('\n')
      .map((l) => `      ${l}`),
    `    INLINE_PEM: "-----BEGIN PRIVATE KEY-----\\n${other.join('\\n')}\\n-----END PRIVATE KEY-----\\n"`,
    '    AFTER_THEM: visible-in-mesh',
    '',
  ].join('\n');
  const envoyMetadata = {
    XDS_AUTH_HEADER: `Authorization: Bearer ${metaJwt}`,
    HTTP_PROXY: 'http://metauser:hunter2-metadata@proxy.corp:3128',
    EXTRA_PEM: `-----BEGIN CERTIFICATE-----\n${other.join('\n')}\n-----END CERTIFICATE-----\n`,
    LABEL_AFTER: 'visible-in-metadata',
  };
  const journalLines = [
    `2026-11-26T06:20:05Z warn failed to fetch token: Authorization: Bearer ${logJwt} refused`,
    `2026-11-26T06:20:06Z error x509: cannot parse -----BEGIN EC PRIVATE KEY-----${other[2]}`,
  ];
  const logLines = [`2026-11-26T06:20:08.000000Z\terror\tDNS lookup table is not ready: Bearer opaque-log-bearer ${key[3]}`];
  // istio.err.log is read last: its line is the latest of its pattern.
  const istioErrLog = [
    '2026-11-26T06:20:07.000000Z\twarn\txdsproxy\tdial tcp http://loguser:hunter2-log@istiod.istio-system.svc:15012: connect: connection refused',
  ];
  // The chain: the leaf, a key labelled as a certificate, key text after an END, a certificate that never
  // ends followed by key lines, lines that only look like base64, then the root.
  const chainPem = [
    pki.leafPem,
    relabel(pki.keyPem, 'CERTIFICATE'),
    `-----END CERTIFICATE-----${key[4]}\n`,
    `-----BEGIN CERTIFICATE-----\n${bodyLines(pki.rootPem).slice(0, 3).join('\n')}\n${key.slice(5, 9).join('\n')}\n`,
    `${other.slice(3, 6).join('\n')}\n`,
    pki.rootPem,
  ].join('');
  const rootPem = `${pki.rootPem}-----BEGIN CERTIFICATE-----\n${key.slice(9, 12).join('\n')}\n-----END CERTIFICATE-----\n`;
  return {
    options: {
      clusterEnvExtra,
      sidecarEnv,
      meshConfig,
      envoyMetadata,
      journalLines,
      logLines,
      istioErrLog,
      certificates: { chainPem, rootPem, keyPem: pki.keyPem, mtime: 1764138000 },
    },
    secrets: fragments(
      pki,
      [envJwt, meshJwt, metaJwt, logJwt, plainJwt, sidecarJwt],
      ['hunter2-sidecar', 'hunter2-env', 'ghp-env-userinfo', 'hunter2-mesh', 'hunter2-metadata', 'hunter2-log', 'opaque-log-bearer', basic],
    ),
  };
}

function content(sections: Map<string, Section>, name: string): string {
  const section = sections.get(name);
  if (!section) throw new Error(`section ${name} is missing`);
  return section.content;
}

describe('the diagnostic script hides secrets by their look, wherever they stand', () => {
  const RUNS: Array<{ shell: ShellName; awk: 'system' | 'busybox' }> = [
    { shell: 'dash', awk: 'system' },
    { shell: 'bash', awk: 'system' },
    { shell: 'busybox', awk: 'busybox' },
  ];
  const outputs = new Map<string, { stdout: string; sections: Map<string, Section> }>();
  let secrets: string[] = [];
  let pki: Pki;
  beforeAll(async () => {
    pki = await testPki();
    const planted = corpus(pki);
    secrets = planted.secrets;
    for (const { shell, awk } of RUNS) {
      const vm = await createFakeVm({ ...planted.options, awk });
      try {
        const result = await vm.run(shell, { deadlineMs: 60_000 });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toBe('');
        const split = splitDiagnosticOutput(result.stdout);
        expect(split.problems).toEqual([]);
        outputs.set(shell, { stdout: result.stdout, sections: split.sections });
      } finally {
        await vm.close();
      }
    }
  }, 240_000);
  const output = (shell: ShellName) => {
    const found = outputs.get(shell);
    if (!found) throw new Error(`no run under ${shell}`);
    return found;
  };

  it.each(RUNS)('under $shell with $awk awk: no fragment of any secret is printed', ({ shell }) => {
    const { stdout } = output(shell);
    expect(secrets.length).toBeGreaterThan(100);
    expect(secrets.filter((s) => stdout.includes(s))).toEqual([]);
    expect(stdout).not.toMatch(/PRIVATE KEY-----\n?[A-Za-z0-9+/]/);
  });

  it.each(RUNS)('under $shell with $awk awk: cluster.env keeps what is not secret', ({ shell }) => {
    const env = content(output(shell).sections, 'cluster-env');
    expect(env).toContain("\nXDS_AUTH_HEADER='Authorization: <redacted>'\n");
    expect(env).toContain('\nHTTP_PROXY=http://proxyuser:<redacted>@proxy.corp:3128\n');
    expect(env).toContain("\nHTTPS_PROXY='https://<redacted>@proxy.corp:3129/'\n");
    expect(env).toContain('\nOIDC_HINT=<redacted>\n');
    expect(env).toContain('\nUPSTREAM_HEADERS="authorization=<redacted>"\n');
    expect(env).toContain(
      '\nCA_BUNDLE="-----BEGIN CERTIFICATE-----<redacted>\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----<redacted>\n-----END CERTIFICATE-----\n"\n',
    );
    expect(env).toContain("\nTRAILER='-----END CERTIFICATE-----<redacted>'\n");
    expect(env).toContain('\nBARE=<redacted>\n');
    const long = env.split('\n').find((l) => l.startsWith('LONG_LINE='));
    expect(long).toBe(`LONG_LINE=${'a.b '.repeat(1021)}`);
    expect(env).not.toContain('beyond-the-bound');
    const parsed = parseClusterEnv(env);
    expect(parsed.get('AFTER_CORPUS')).toBe('visible-after-corpus');
    expect(parsed.get('SERVICE_ACCOUNT')).toBe('vm-serviceaccount');
  });

  it.each(RUNS)('under $shell with $awk awk: sidecar.env is redacted like cluster.env and keeps what is not secret', ({ shell }) => {
    const env = content(output(shell).sections, 'sidecar-env');
    expect(env).toContain('XDS_AUTH_HEADER="Authorization: <redacted>"\n');
    expect(env).toContain('\nHTTPS_PROXY=http://sideuser:<redacted>@proxy.corp:3128\n');
    expect(parseClusterEnv(env).get('SIDECAR_AFTER')).toBe('visible-in-sidecar');
  });

  it.each(RUNS)('under $shell with $awk awk: the mesh config stays YAML', ({ shell }) => {
    const config = load(content(output(shell).sections, 'mesh-config')) as {
      defaultConfig: { discoveryAddress: string; proxyMetadata: Record<string, string> };
    };
    expect(config.defaultConfig.discoveryAddress).toBe('istiod-rev-1.istio-system.svc:15012');
    expect(config.defaultConfig.proxyMetadata).toEqual({
      CANONICAL_SERVICE: 'foo',
      XDS_AUTH_HEADER: 'Authorization: <redacted>',
      HTTP_PROXY: 'http://meshuser:<redacted>@proxy.corp:3128',
      CA_BUNDLE:
        '-----BEGIN CERTIFICATE-----<redacted>\n-----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----<redacted>\n-----END RSA PRIVATE KEY-----\n',
      INLINE_PEM: '-----BEGIN PRIVATE KEY-----<redacted>-----END PRIVATE KEY-----\n',
      AFTER_THEM: 'visible-in-mesh',
    });
  });

  it.each(RUNS)("under $shell with $awk awk: Envoy's node metadata stays JSON", ({ shell }) => {
    const info = JSON.parse(content(output(shell).sections, 'envoy-server-info')) as {
      version: string;
      node: { id: string; metadata: Record<string, string> };
    };
    expect(info.version).toMatch(/^[0-9a-f]{40}\/1\.32\.3\//);
    expect(info.node.id).toContain('~foo-1.bar~');
    expect(info.node.metadata).toMatchObject({
      XDS_AUTH_HEADER: 'Authorization: <redacted>',
      HTTP_PROXY: 'http://metauser:<redacted>@proxy.corp:3128',
      EXTRA_PEM: '-----BEGIN CERTIFICATE-----<redacted>-----END CERTIFICATE-----\n',
      LABEL_AFTER: 'visible-in-metadata',
    });
  });

  it.each(RUNS)('under $shell with $awk awk: the latest log lines keep their words around the secrets', ({ shell }) => {
    const logs = content(output(shell).sections, 'logs');
    expect(logs).toContain('\ncount token 1\n');
    expect(logs).toContain('\nlast token 2026-11-26T06:20:05Z warn failed to fetch token: Authorization: <redacted>\n');
    expect(logs).toContain('\nlast x509 2026-11-26T06:20:06Z error x509: cannot parse -----BEGIN EC PRIVATE KEY-----<redacted>\n');
    expect(logs).toContain(
      '\nlast istiod-dial 2026-11-26T06:20:07.000000Z\twarn\txdsproxy\tdial tcp http://loguser:<redacted>@istiod.istio-system.svc:15012: connect: connection refused\n',
    );
    expect(logs).toContain(
      '\nlast dns-not-ready 2026-11-26T06:20:08.000000Z\terror\tDNS lookup table is not ready: Bearer <redacted> <redacted>\n',
    );
  });

  it.each(RUNS)('under $shell with $awk awk: the PEM sections hold only certificate blocks, and count what they dropped', ({ shell }) => {
    const { sections } = output(shell);
    const chain = content(sections, 'cert-chain-pem');
    const keyLines = bodyLines(pki.keyPem).length;
    // The relabelled key (its lines and markers), the END line with key text, the unended block (BEGIN,
    // 3 + 4 lines) and the 3 base64 lines after it.
    expect(chain).toBe(`${pki.leafPem}${pki.rootPem}dropped_lines=${keyLines + 2 + 1 + 8 + 3}\n`);
    expect(parsePemCertificates(chain).certificates).toHaveLength(2);
    expect(content(sections, 'root-cert-pem')).toBe(`${pki.rootPem}dropped_lines=5\n`);
  });
});
