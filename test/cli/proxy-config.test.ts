import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.ts';
import type { CliIo } from '../../cli/context.ts';

const fixturePath = (name: string): string => fileURLToPath(new URL(`../fixtures/proxy-config/${name}`, import.meta.url));
const fixture = (name: string): string => readFileSync(fixturePath(name), 'utf8');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], stdin = ''): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: async () => stdin,
    clock: () => new Date('2024-06-01T00:00:00Z'),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const scratch = mkdtempSync(join(tmpdir(), 'fleet-audit-proxy-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('fleet-audit proxy-config secret', () => {
  it("prints istioctl's secret table for a config dump file", async () => {
    const result = await run(['proxy-config', 'secret', '--file', fixturePath('secret-config-dump.json'), '--istio-version', '1.24']);
    expect(result).toEqual({ code: 0, stdout: fixture('secret-output.txt'), stderr: '' });
  });

  it('prints the newest layout (1.29) when the dump names no Istio release', async () => {
    const result = await run(['proxy-config', 'secret', '--file', fixturePath('secret-warming-config-dump.json')]);
    expect(result).toEqual({ code: 0, stdout: fixture('secret-warming-output-1.29.txt'), stderr: '' });
  });

  it("takes the layout from the proxy's ISTIO_VERSION in the dump's bootstrap, and --istio-version over it", async () => {
    const dump = JSON.parse(fixture('secret-warming-config-dump.json')) as { configs: object[] };
    const bootstrap = {
      '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
      bootstrap: { node: { metadata: { ISTIO_VERSION: '1.26.2' } } },
    };
    const withBootstrap = JSON.stringify({ configs: [bootstrap, ...dump.configs] });
    expect(await run(['pc', 'secret', '-f', '-'], withBootstrap)).toEqual({
      code: 0,
      stdout: fixture('secret-warming-output-1.26.txt'),
      stderr: '',
    });
    expect(await run(['pc', 'secret', '-f', '-', '--istio-version', '1.29.1'], withBootstrap)).toEqual({
      code: 0,
      stdout: fixture('secret-warming-output-1.29.txt'),
      stderr: '',
    });
  });

  it('says on stderr when the proxy is older than 1.24 and prints the 1.24 layout', async () => {
    const result = await run(['pc', 'secret', '-f', '-'], fixture('waypoint-config-dump.json'));
    expect(result.stdout).toBe(fixture('secret-output.txt'));
    expect(result.stderr).toContain('Istio 1.21.0-1226 is outside 1.24–1.29: printing the 1.24 layout');
  });

  it.each(['1.23', '1.30.0', 'latest'])('refuses --istio-version %s', async (version) => {
    const result = await run(['pc', 'secret', '-f', fixturePath('secret-config-dump.json'), '--istio-version', version]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected one of 1.24, 1.25, 1.26, 1.27, 1.28, 1.29');
  });

  it('reads the dump from standard input with --file -, as in curl … | fleet-audit proxy-config secret --file -', async () => {
    const result = await run(['proxy-config', 'secret', '--file', '-'], fixture('waypoint-config-dump.json'));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(fixture('secret-output.txt'));
  });

  it('prints the SecretsConfigDump as istioctl does with -o json and -o yaml', async () => {
    const result = await run(['pc', 's', '-f', '-', '-o', 'json'], fixture('secret-config-dump.json'));
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { dynamicActiveSecrets: { name: string }[] };
    expect(json.dynamicActiveSecrets.map((s) => s.name)).toEqual(['default', 'ROOTCA']);
    const yaml = await run(['pc', 's', '-f', '-', '-o', 'yaml'], fixture('secret-config-dump.json'));
    expect(yaml.stdout).toMatch(/^dynamicActiveSecrets:\n- lastUpdated: "2023-05-15T01:32:52.\d+Z"\n {2}name: default\n/);
  });

  it('lists the entries of a warming answer as WARMING when told', async () => {
    const dump = JSON.parse(fixture('secret-config-dump.json')) as { configs: { dynamic_active_secrets: object[] }[] };
    const answer = JSON.stringify({
      configs: dump.configs[0]!.dynamic_active_secrets.map((s) => ({
        '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret',
        ...s,
      })),
    });
    const result = await run(['proxy-config', 'secret', '-f', '-', '--warming'], answer);
    expect(
      result.stdout
        .split('\n')
        .slice(1, 3)
        .map((l) => l.split(/ {2,}/)[2]),
    ).toEqual(['WARMING', 'WARMING']);
  });

  it('says so when the dump has a secrets section without secrets', async () => {
    const result = await run(
      ['proxy-config', 'secret', '-f', '-'],
      '{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.SecretsConfigDump"}]}',
    );
    expect(result).toEqual({ code: 0, stdout: 'No active or warming secrets found.\n', stderr: '' });
  });

  it('exits 2 naming the file when it does not exist', async () => {
    const missing = join(scratch, 'no-such-dump.json');
    const result = await run(['proxy-config', 'secret', '--file', missing]);
    expect(result).toEqual({ code: 2, stdout: '', stderr: `fleet-audit: ${missing}: no such file\n` });
  });

  it('exits 2 with the problem for input that is not a config dump with secrets', async () => {
    const cases: [string, RegExp][] = [
      ['{"configs":', /^fleet-audit: standard input is not JSON/],
      ['', /^fleet-audit: standard input is empty/],
      ['{}', /^fleet-audit: standard input holds no secrets/],
      [fixture('sidecar-clusters-active.json'), /^fleet-audit: standard input holds no secrets: no SecretsConfigDump/],
    ];
    for (const [stdin, message] of cases) {
      const result = await run(['proxy-config', 'secret', '--file', '-'], stdin);
      expect(result.code, stdin.slice(0, 20)).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
  });

  it('exits 2 for a binary file', async () => {
    const binary = join(scratch, 'binary.bin');
    writeFileSync(binary, Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x80]));
    const result = await run(['proxy-config', 'secret', '--file', binary]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`fleet-audit: ${binary} is not text (binary data, not a config dump)\n`);
  });

  it('exits 2 without --file', async () => {
    const result = await run(['proxy-config', 'secret']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '-f, --file <path>' not specified");
  });
});

describe('fleet-audit proxy-config clusters', () => {
  it("prints istioctl's cluster table for a config dump file", async () => {
    const result = await run(['proxy-config', 'clusters', '--file', fixturePath('waypoint-config-dump.json')]);
    expect(result).toEqual({ code: 0, stdout: fixture('waypoint-clusters.golden.txt'), stderr: '' });
  });

  it('reads a ?resource= answer from standard input', async () => {
    const result = await run(['proxy-config', 'cluster', '--file', '-'], fixture('sidecar-clusters-active.json'));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(fixture('sidecar-clusters.golden.txt'));
  });

  it('prints valid JSON with -o json', async () => {
    const result = await run(['proxy-config', 'clusters', '-f', '-', '-o', 'json'], fixture('sidecar-clusters-active.json'));
    const json = JSON.parse(result.stdout) as { name: string; type?: string }[];
    expect(json).toHaveLength(32);
    expect(json.find((c) => c.name === 'outbound|15012||istiod.istio-system.svc.cluster.local')).toEqual({
      name: 'outbound|15012||istiod.istio-system.svc.cluster.local',
      type: 'EDS',
    });
  });

  it('notes the warming clusters the table leaves out, and refuses a table of warming clusters only', async () => {
    const warmingOnly = fixture('sidecar-clusters-active.json');
    const refused = await run(['proxy-config', 'clusters', '-f', '-', '--warming'], warmingOnly);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'fleet-audit: standard input holds no active or static clusters (only 32 warming, which the table leaves out: use -o json)\n',
    );
    const json = await run(['proxy-config', 'clusters', '-f', '-', '--warming', '-o', 'json'], warmingOnly);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout) as unknown[]).toHaveLength(32);
  });

  it('exits 2 naming the file when it holds no clusters', async () => {
    const path = fixturePath('secret-config-dump.json');
    const result = await run(['proxy-config', 'clusters', '--file', path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`fleet-audit: ${path} holds no clusters: no ClustersConfigDump among its configs (SecretsConfigDump)\n`);
  });

  it('keeps terminal control characters of cluster names off the terminal', async () => {
    const answer = JSON.stringify({
      configs: [
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
          cluster: { name: 'evil\u001b[2J', type: 'STATIC' },
        },
      ],
    });
    const result = await run(['proxy-config', 'clusters', '-f', '-'], answer);
    expect(result.stdout).not.toContain('\u001b');
    expect(result.stdout).toContain('evil\uFFFD[2J');
  });
});

describe('fleet-audit proxy-config eds', () => {
  it("prints istioctl's EDS table with its filters", async () => {
    expect(await run(['pc', 'eds', '-f', fixturePath('eds-config-dump.json')])).toEqual({
      code: 0,
      stdout: fixture('eds-output.txt'),
      stderr: '',
    });
    expect(await run(['pc', 'eds', '-f', '-', '--port', '8080'], fixture('eds-config-dump.json'))).toEqual({
      code: 0,
      stdout: fixture('eds-port-8080-output.txt'),
      stderr: '',
    });
  });

  it('refuses a dump taken without ?include_eds, and a port that is not one', async () => {
    const noEds = await run(['pc', 'eds', '-f', fixturePath('secret-config-dump.json')]);
    expect(noEds.code).toBe(2);
    expect(noEds.stderr).toContain('?include_eds');
    expect((await run(['pc', 'eds', '-f', fixturePath('eds-config-dump.json'), '--port', 'http'])).code).toBe(2);
  });
});

describe('fleet-audit proxy-config routes', () => {
  it("prints istioctl's verbose route table, and one row per configuration with --no-verbose", async () => {
    const verbose = await run(['pc', 'routes', '-f', fixturePath('routes-k8s-gateway-http-route-path-prefix-config-dump.json')]);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout.trim()).toBe(fixture('routes-k8s-gateway-http-route-path-prefix-output.txt').trim());
    const short = await run(
      ['pc', 'r', '-f', '-', '--no-verbose', '--name', 'http.80'],
      fixture('routes-k8s-gateway-http-route-path-prefix-config-dump.json'),
    );
    expect(short).toEqual({ code: 0, stdout: 'NAME        VIRTUAL HOSTS\nhttp.80     1\n', stderr: '' });
  });

  it('refuses a dump without routes', async () => {
    const result = await run(['pc', 'routes', '-f', fixturePath('secret-config-dump.json')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('RoutesConfigDump');
  });
});

describe('fleet-audit proxy-config clusters filters', () => {
  it("keeps the clusters istioctl's --fqdn, --port, --subset and --direction keep: parts of the name", async () => {
    const rows = async (...args: string[]): Promise<string[][]> => {
      const result = await run(['pc', 'clusters', '-f', fixturePath('sidecar-clusters-active.json'), ...args]);
      expect(result.code).toBe(0);
      return result.stdout
        .split('\n')
        .slice(1, -1)
        .map((l) => l.trimEnd().split(/ {2,}/));
    };
    expect(await rows('--port', '9080', '--direction', 'outbound')).toEqual([
      ['details.default.svc.cluster.local', '9080', '-', 'outbound', 'EDS'],
      ['productpage.default.svc.cluster.local', '9080', '-', 'outbound', 'EDS'],
      ['ratings.default.svc.cluster.local', '9080', '-', 'outbound', 'EDS'],
      ['reviews.default.svc.cluster.local', '9080', '-', 'outbound', 'EDS'],
    ]);
    expect((await rows('--fqdn', 'reviews', '--port', '9080')).map((r) => r[0])).toEqual(['reviews.default.svc.cluster.local']);
    expect(await rows('--subset', 'no-such-subset')).toEqual([]);
  });
});

describe('fleet-audit proxy-config listeners, bootstrap and all', () => {
  it("prints istioctl's listener table, verbose by default", async () => {
    const result = await run(['pc', 'l', '-f', fixturePath('waypoint-config-dump.json'), '--port', '15021']);
    expect(result).toEqual({
      code: 0,
      stdout: 'ADDRESSES PORT  MATCH DESTINATION\n0.0.0.0   15021 ALL   Inline Route: /healthz/ready*\n',
      stderr: '',
    });
    expect((await run(['pc', 'listeners', '-f', fixturePath('waypoint-config-dump.json'), '--no-verbose', '--type', 'http'])).stdout).toBe(
      'ADDRESSES PORT  TYPE\n0.0.0.0   15021 HTTP\n',
    );
  });

  it("prints the bootstrap as JSON by default and istioctl's version summary with -o short", async () => {
    const json = await run(['pc', 'bootstrap', '-f', fixturePath('waypoint-config-dump.json')]);
    expect(json.stdout).toBe(fixture('waypoint-bootstrap.golden.json'));
    const short = await run(['pc', 'b', '-f', fixturePath('waypoint-config-dump.json'), '-o', 'short']);
    expect(short.stdout).toBe(`${fixture('waypoint-config-dump-summary.txt').split('\n\n')[0]}\n`);
  });

  it("prints istioctl's all summary in the layout asked for, with headers from 1.29 on", async () => {
    const all = await run(['pc', 'all', '-f', fixturePath('waypoint-config-dump.json'), '--istio-version', '1.29', '--with-headers']);
    expect(all).toEqual({ code: 0, stdout: fixture('waypoint-config-dump-summary-with-headers-1.29.txt'), stderr: '' });
    const old = await run(['pc', 'all', '-f', fixturePath('waypoint-config-dump.json'), '--istio-version', '1.28', '--with-headers']);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('came with 1.29');
  });

  it('takes the 1.24 layout for the 1.21 waypoint of the upstream dump, saying so', async () => {
    const all = await run(['pc', 'a', '-f', fixturePath('waypoint-config-dump.json')]);
    expect(all.stdout).toBe(fixture('waypoint-config-dump-summary.txt'));
    expect(all.stderr).toContain('printing the 1.24 layout');
  });
});

describe('fleet-audit proxy-config endpoints', () => {
  it("reads Envoy's /clusters?format=json as istioctl does, and sends a config dump to eds", async () => {
    const answer = JSON.stringify({
      cluster_statuses: [
        {
          name: 'agent',
          host_statuses: [
            { address: { socket_address: { address: '127.0.0.1', port_value: 15020 } }, health_status: { eds_health_status: 'HEALTHY' } },
          ],
        },
      ],
    });
    const result = await run(['pc', 'ep', '-f', '-'], answer);
    expect(result).toEqual({
      code: 0,
      stdout: 'ENDPOINT            STATUS      OUTLIER CHECK     CLUSTER\n127.0.0.1:15020     HEALTHY     OK                agent\n',
      stderr: '',
    });
    const dump = await run(['pc', 'endpoints', '-f', fixturePath('eds-config-dump.json')]);
    expect(dump.code).toBe(2);
    expect(dump.stderr).toContain('proxy-config eds');
  });
});

describe('fleet-audit proxy-config ecds and -o yaml', () => {
  it("prints istioctl's ECDS table, and the EcdsConfigDump with -o json and -o yaml", async () => {
    const path = fixturePath('ecds-config-dump.json');
    expect(await run(['pc', 'ecds', '-f', path])).toEqual({ code: 0, stdout: fixture('ecds-output.txt'), stderr: '' });
    expect(await run(['pc', 'ecds', '-f', path, '-o', 'json'])).toEqual({ code: 0, stdout: fixture('ecds-output.json'), stderr: '' });
    expect(await run(['pc', 'ecds', '-f', path, '-o', 'yaml'])).toEqual({ code: 0, stdout: fixture('ecds-output-1.26.yaml'), stderr: '' });
    const none = await run(['pc', 'ecds', '-f', fixturePath('secret-config-dump.json')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('holds no ECDS filters');
  });

  it('prints the endpoints of eds with -o yaml as istioctl does, and the whole dump with all -o yaml', async () => {
    const eds = await run(['pc', 'eds', '-f', fixturePath('eds-config-dump.json'), '-o', 'yaml', '--port', '8080']);
    expect(eds).toEqual({ code: 0, stdout: fixture('eds-port-8080-output.yaml'), stderr: '' });
    const all = await run(['pc', 'all', '-f', fixturePath('eds-config-dump.json'), '-o', 'yaml']);
    expect(all.stdout).toMatch(/^configs:\n- '@type': type\.googleapis\.com\/envoy\.admin\.v3\.EndpointsConfigDump\n/);
    const asGiven = await run(['pc', 'all', '-f', '-', '-o', 'json'], '{"configs":[]}');
    expect(asGiven.stdout).toBe('{"configs":[]}\n');
    const notJson = await run(['pc', 'all', '-f', '-', '-o', 'json'], 'nope');
    expect(notJson).toEqual({ code: 2, stdout: '', stderr: 'fleet-audit: standard input is not JSON, so not an Envoy config dump\n' });
  });
});
