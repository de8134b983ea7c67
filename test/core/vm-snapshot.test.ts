import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDiagnosticOutput } from '../../lib/core/diagnostic-output.ts';
import { parseVmSnapshot } from '../../lib/core/vm-snapshot.ts';

const B = '@@fa-00112233445566ff';
const HEALTHY = [
  { name: 'identity', content: 'hostname=vm1\nips=10.0.0.5\nclock=1764138000' },
  { name: 'systemd', content: 'ActiveState=active\nSubState=running\nUnitFileState=enabled' },
  { name: 'readiness', content: 'http_code=200\ncurl_exit=0' },
  { name: 'cluster-env', content: "ISTIO_NAMESPACE='payments'" },
];

describe('parseVmSnapshot', () => {
  it('parses each section into available evidence', () => {
    const snap = parseVmSnapshot(formatDiagnosticOutput(B, HEALTHY));
    expect(snap.readable).toBe(true);
    expect(snap.identity).toMatchObject({ ok: true, value: { hostname: 'vm1' } });
    expect(snap.unit).toMatchObject({ ok: true, value: { activeState: 'active' } });
    expect(snap.readiness).toMatchObject({ ok: true, value: { outcome: 'ready' } });
    expect(snap.clusterEnv.ok && snap.clusterEnv.value.get('ISTIO_NAMESPACE')).toBe('payments');
    expect(snap.serverInfo).toEqual({ ok: false, reason: 'section envoy-server-info is missing from the output' });
  });

  it('makes the sections SSM cut unavailable and keeps the ones before the cut', () => {
    const full = formatDiagnosticOutput(B, HEALTHY);
    const snap = parseVmSnapshot(`${full.slice(0, full.indexOf('http_code=200') + 6)}\n--output truncated--`);
    expect(snap.truncated).toBe(true);
    expect(snap.identity.ok).toBe(true);
    expect(snap.unit.ok).toBe(true);
    expect(snap.readiness).toEqual({ ok: false, reason: 'section readiness was cut' });
    expect(snap.clusterEnv).toEqual({ ok: false, reason: 'section cluster-env is missing from the output' });
  });

  it('says why a section is empty when its tool is missing', () => {
    const snap = parseVmSnapshot(
      formatDiagnosticOutput(B, [...HEALTHY.slice(0, 1), { name: 'systemd', content: '', rc: 127, missing: ['systemctl'] }]),
    );
    expect(snap.unit).toEqual({ ok: false, reason: 'section systemd is empty: systemctl not installed' });
  });

  it('is unreadable for garbage, binary bytes and empty output, without throwing', () => {
    for (const text of ['', 'garbage', '\u0000\u0001\u0002\u00ff'.repeat(1000), Buffer.from([0xff, 0xfe, 0x00, 0x41]).toString('latin1')]) {
      const snap = parseVmSnapshot(text);
      expect(snap.readable).toBe(false);
      expect(snap.identity.ok).toBe(false);
    }
  });

  it('refuses a 10 MB line in a section, which the script never prints, and keeps the other sections', () => {
    const snap = parseVmSnapshot(formatDiagnosticOutput(B, [...HEALTHY, { name: 'logs', content: 'x'.repeat(10 * 1024 * 1024) }]));
    expect(snap.readable).toBe(true);
    expect(snap.logs).toEqual({ ok: false, reason: 'section logs holds 10485760 characters, more than the script ever prints (16384)' });
    expect(snap.identity.ok).toBe(true);
  });

  // These inputs made the parsers backtrack for minutes; a regression shows as a test that never ends.
  it('stays linear on adversarial sections: a long run of dashes cut by SSM, unterminated PEM blocks', () => {
    const dashes = `FLEET-AUDIT-DIAGNOSTICS v1 boundary=${B}\n${B} BEGIN mesh-config\n${'-'.repeat(200_000)}`;
    expect(parseVmSnapshot(dashes).sections.get('mesh-config')).toMatchObject({ cut: true });
    const begins = '-----BEGIN CERTIFICATE-----\n'.repeat(1000);
    const snap = parseVmSnapshot(formatDiagnosticOutput(B, [...HEALTHY, { name: 'cert-chain-pem', content: begins }]));
    expect(snap.certChain.ok).toBe(false);
  });

  it('never throws on random bytes or random mutations of real output', () => {
    const real = formatDiagnosticOutput(B, HEALTHY);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        parseVmSnapshot(Buffer.from(bytes).toString('utf8'));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.nat(real.length), fc.nat(real.length), fc.string({ maxLength: 40 }), (at, len, insert) => {
        const snap = parseVmSnapshot(real.slice(0, at) + insert + real.slice(at + (len % 50)));
        expect(typeof snap.readable).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });
});

describe('the environment istio-start.sh builds: sidecar.env under cluster.env', () => {
  const CLUSTER_ENV = { name: 'cluster-env', content: "ISTIO_NAMESPACE='payments'\nISTIO_INBOUND_PORTS='*'\n" };
  const env = (sections: { name: string; content: string; rc?: number }[]) =>
    parseVmSnapshot(formatDiagnosticOutput(B, [...HEALTHY.slice(0, 3), CLUSTER_ENV, ...sections])).clusterEnv;

  it('takes cluster.env on a variable both set, and a variable only sidecar.env sets', () => {
    const merged = env([{ name: 'sidecar-env', content: 'ISTIO_NAMESPACE=other\nISTIO_CUSTOM_IP_TABLES=true\n' }]);
    expect(merged.ok && Object.fromEntries(merged.value)).toEqual({
      ISTIO_NAMESPACE: 'payments',
      ISTIO_INBOUND_PORTS: '*',
      ISTIO_CUSTOM_IP_TABLES: 'true',
    });
  });

  it('is cluster.env alone when there is no sidecar.env, or the script did not collect it', () => {
    for (const sections of [[{ name: 'sidecar-env', content: '', rc: 1 }], []]) {
      const merged = env(sections);
      expect(merged.ok && [...merged.value.keys()]).toEqual(['ISTIO_NAMESPACE', 'ISTIO_INBOUND_PORTS']);
    }
  });

  it('is unknown when sidecar.env was cut, unreadable, or lost with a cut output', () => {
    const full = formatDiagnosticOutput(B, [
      ...HEALTHY.slice(0, 3),
      CLUSTER_ENV,
      { name: 'sidecar-env', content: 'ISTIO_CUSTOM_IP_TABLES=true\n' },
    ]);
    const cutInside = parseVmSnapshot(`${full.slice(0, full.indexOf('ISTIO_CUSTOM'))}\n--output truncated--`).clusterEnv;
    expect(cutInside).toEqual({ ok: false, reason: 'section sidecar-env was cut' });
    const lost = parseVmSnapshot(`${full.slice(0, full.indexOf(' BEGIN sidecar-env') - B.length)}--output truncated--`).clusterEnv;
    expect(lost.ok).toBe(false);
    expect(env([{ name: 'sidecar-env', content: '', rc: 124 }])).toEqual({
      ok: false,
      reason: 'sidecar.env could not be read (section sidecar-env rc 124)',
    });
  });
});
