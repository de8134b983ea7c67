import { describe, expect, it } from 'vitest';
import { parseCertsListing } from '../../../lib/core/parsers/certs-listing.ts';
import { parseEnvoyStats } from '../../../lib/core/parsers/envoy-stats.ts';
import { parseIstioToken } from '../../../lib/core/parsers/istio-token.ts';
import { LOG_PATTERNS, parseLogsSummary } from '../../../lib/core/parsers/logs-summary.ts';
import { parseIstioVersion, parseVersions } from '../../../lib/core/parsers/versions.ts';

// Envoy /stats?filter=… as a 1.32 sidecar prints it.
const STATS =
  'cluster_manager.cds.update_rejected: 0\ncluster_manager.cds.update_success: 17\ncontrol_plane.connected_state: 1\nlistener_manager.lds.update_rejected: 2\nserver.state: 0\n';

describe('parseEnvoyStats', () => {
  it('reads name: value lines', () => {
    const stats = parseEnvoyStats(STATS);
    expect(stats.ok && Object.fromEntries(stats.value)).toEqual({
      'cluster_manager.cds.update_rejected': 0,
      'cluster_manager.cds.update_success': 17,
      'control_plane.connected_state': 1,
      'listener_manager.lds.update_rejected': 2,
      'server.state': 0,
    });
  });
  it('keeps complete lines of a truncated answer and rejects garbage', () => {
    const cut = parseEnvoyStats(STATS.slice(0, 70));
    expect(cut.ok && [...cut.value.keys()]).toEqual(['cluster_manager.cds.update_rejected']);
    expect(parseEnvoyStats('<html>502 Bad Gateway</html>')).toMatchObject({ ok: false });
    expect(parseEnvoyStats('\u0000\u0001: 1x')).toMatchObject({ ok: false });
  });
});

const LOGS = [
  'source journal ok 1000',
  'source istio.log ok 2000',
  'source istio.err.log missing 0',
  ...LOG_PATTERNS.map((p) => `count ${p} ${p === 'x509' ? 3 : 0}`),
  'last x509 2026-11-26T05:00:00Z error x509: certificate signed by unknown authority',
].join('\n');

describe('parseLogsSummary', () => {
  it('reads sources, counts and latest lines', () => {
    const logs = parseLogsSummary(LOGS);
    expect(logs.ok).toBe(true);
    if (!logs.ok) return;
    expect(logs.value.sources).toEqual([
      { name: 'journal', state: 'ok', lines: 1000 },
      { name: 'istio.log', state: 'ok', lines: 2000 },
      { name: 'istio.err.log', state: 'missing', lines: 0 },
    ]);
    expect(logs.value.counts.get('x509')).toBe(3);
    expect(logs.value.latest.get('x509')).toBe('2026-11-26T05:00:00Z error x509: certificate signed by unknown authority');
  });
  it('is unavailable when a count is missing (truncated) and for garbage', () => {
    expect(parseLogsSummary(LOGS.slice(0, LOGS.indexOf('count token')))).toEqual({
      ok: false,
      reason: 'the logs section has no count for token, x509, istiod-dial, dns-not-ready, stream-closed',
    });
    expect(parseLogsSummary('\u0000garbage')).toMatchObject({ ok: false });
  });
});

describe('parseVersions', () => {
  it('reads the package and the agent versions', () => {
    expect(parseVersions('package_manager=rpm\npackage_version=1.24.6-1\npilot_agent_version=1.24.6')).toEqual({
      ok: true,
      value: { packageManager: 'rpm', packageVersion: '1.24.6-1', pilotAgentVersion: '1.24.6' },
    });
    expect(parseVersions('package_manager=\npackage_version=\npilot_agent_version=1.24.6')).toMatchObject({
      ok: true,
      value: { packageManager: undefined, packageVersion: undefined },
    });
  });
  it('is unavailable for a truncated section or garbage', () => {
    expect(parseVersions('package_manag')).toMatchObject({ ok: false });
    expect(parseVersions('package_version=$(rm -rf /)')).toMatchObject({ ok: true, value: { packageVersion: undefined } });
  });
  it('compares versions by number', () => {
    expect(parseIstioVersion('1.24.6-1')).toEqual([1, 24, 6]);
    expect(parseIstioVersion('1.22')).toEqual([1, 22, 0]);
    expect(parseIstioVersion('v1')).toBeUndefined();
  });
});

describe('parseCertsListing', () => {
  const listing =
    'file mode=0600 uid=998 gid=998 owner=istio-proxy size=1675 mtime=1764138000 name=key.pem\nfile mode=0644 uid=0 gid=0 owner=root size=10 mtime=1764138000 name=odd name.pem\nkey_match=yes';
  it('reads the directory the script read, and a variable it refused', () => {
    const read = (first: string) => parseCertsListing(`${first}\n${listing}`);
    expect(read('location=/var/lib/istio/certs source=OUTPUT_CERTS')).toMatchObject({
      ok: true,
      value: { directory: '/var/lib/istio/certs', source: 'OUTPUT_CERTS', present: true },
    });
    expect(read('location=/etc/certs source=default refused=PROV_CERT')).toMatchObject({
      ok: true,
      value: { directory: '/etc/certs', source: 'default', refused: 'PROV_CERT' },
    });
    expect(parseCertsListing('location=/srv/certs source=OUTPUT_CERTS\ndir=missing\n')).toEqual({
      ok: true,
      value: { directory: '/srv/certs', source: 'OUTPUT_CERTS', present: false, files: [], keyMatch: 'unknown', unreadable: [] },
    });
  });

  it('reads the files and key_match', () => {
    expect(parseCertsListing(listing)).toEqual({
      ok: true,
      value: {
        // A listing without its location line comes from a script that read /etc/certs only.
        directory: '/etc/certs',
        source: 'default',
        present: true,
        keyMatch: 'yes',
        unreadable: [],
        files: [
          { name: 'key.pem', mode: 0o600, uid: 998, gid: 998, owner: 'istio-proxy', size: 1675, mtimeEpochSeconds: 1764138000 },
          { name: 'odd name.pem', mode: 0o644, uid: 0, gid: 0, owner: 'root', size: 10, mtimeEpochSeconds: 1764138000 },
        ],
      },
    });
  });
  it('tells a missing directory, and is unavailable when cut before key_match or garbage', () => {
    expect(parseCertsListing('dir=missing')).toMatchObject({ ok: true, value: { present: false } });
    expect(parseCertsListing(listing.slice(0, 90))).toMatchObject({ ok: false });
    expect(parseCertsListing('\u00ff\u0000')).toMatchObject({ ok: false });
  });
});

describe('parseIstioToken', () => {
  const payload = Buffer.from(
    JSON.stringify({ aud: ['istio-ca'], exp: 1767000000, iat: 1764000000, sub: 'system:serviceaccount:payments:payments-vm' }),
  ).toString('base64url');
  it('reads the claims of the payload segment', () => {
    expect(parseIstioToken(`present=yes\nmode=0640 uid=998 gid=998 owner=istio-proxy mtime=1764000000\npayload=${payload}`)).toEqual({
      ok: true,
      value: {
        present: true,
        file: { mode: 0o640, uid: 998, gid: 998, owner: 'istio-proxy', mtimeEpochSeconds: 1764000000 },
        expEpochSeconds: 1767000000,
        audiences: ['istio-ca'],
        subject: 'system:serviceaccount:payments:payments-vm',
      },
    });
  });
  it('tells an absent token, and is unavailable for a cut or garbage payload', () => {
    expect(parseIstioToken('present=no')).toMatchObject({ ok: true, value: { present: false } });
    expect(parseIstioToken(`present=yes\npayload=${payload.slice(0, 20)}`)).toMatchObject({ ok: false });
    expect(parseIstioToken('present=yes\npayload=!!!')).toMatchObject({ ok: false });
    expect(parseIstioToken('\u0000')).toMatchObject({ ok: false });
  });
});
