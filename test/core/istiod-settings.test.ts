import { describe, expect, it } from 'vitest';
import { parseGoDuration, readIstiodSettings, rootCaConfigMapNames } from '../../lib/core/istiod-settings.ts';

const pod = (container: Record<string, unknown>, extra: Record<string, unknown>[] = []): unknown => ({
  metadata: { name: 'istiod-1', namespace: 'istio-system' },
  spec: { containers: [{ name: 'discovery', ...container }, ...extra] },
});

describe('parseGoDuration', () => {
  it.each([
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['90s', 90_000],
    ['2h45m30.5s', 9_930_500],
    ['500ms', 500],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['.5s', 500],
    ['5.s', 5000],
    ['0', 0],
    ['+10m', 600_000],
    ['-10m', -600_000],
  ])('reads %s as time.ParseDuration does', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '30', 'm', '30 m', '30min', '1d', '.s', '1h-30m', '--1m', 'Infinity', '1e3s', `${'9'.repeat(120)}h`])(
    'refuses %j without throwing',
    (text) => {
      expect(parseGoDuration(text)).toBeUndefined();
    },
  );

  it('refuses what is not a string', () => {
    expect(parseGoDuration(undefined as unknown as string)).toBeUndefined();
  });
});

describe('readIstiodSettings', () => {
  it('reads PILOT_CA_CERT_CONFIGMAP and the max connection age flag of the discovery container, the last one winning', () => {
    const settings = readIstiodSettings(
      pod({
        args: ['discovery', '--keepaliveMaxServerConnectionAge', '30m', '--keepaliveMaxServerConnectionAge=1h'],
        env: [
          { name: 'PILOT_CA_CERT_CONFIGMAP', value: 'old-root' },
          { name: 'PILOT_CA_CERT_CONFIGMAP', value: 'mesh-trust-bundle' },
        ],
      }),
    );
    expect(settings).toEqual({
      readable: true,
      rootCaConfigMap: { value: 'mesh-trust-bundle', source: 'env' },
      maxConnectionAge: { value: '1h', source: 'flag' },
    });
  });

  it('says unset when the pod leaves them out, value-from when they come from elsewhere, and unreadable without a spec', () => {
    expect(
      readIstiodSettings(
        pod({ args: ['discovery'], env: [{ name: 'PILOT_CA_CERT_CONFIGMAP', valueFrom: { configMapKeyRef: { name: 'x', key: 'y' } } }] }),
      ),
    ).toEqual({
      readable: true,
      rootCaConfigMap: { value: undefined, source: 'value-from' },
      maxConnectionAge: { value: undefined, source: 'unset' },
    });
    expect(readIstiodSettings({ metadata: { name: 'istiod-1' } }).readable).toBe(false);
    expect(readIstiodSettings(null).readable).toBe(false);
    expect(readIstiodSettings(pod({ args: 'not a list' })).maxConnectionAge).toEqual({ value: undefined, source: 'unset' });
  });

  it("reads istiod's container among sidecars by its name", () => {
    const settings = readIstiodSettings({
      spec: {
        containers: [
          { name: 'istio-proxy', args: ['--keepaliveMaxServerConnectionAge=5m'] },
          { name: 'discovery', args: ['--keepaliveMaxServerConnectionAge=2h'] },
        ],
      },
    });
    expect(settings.maxConnectionAge.value).toBe('2h');
  });
});

describe('rootCaConfigMapNames', () => {
  it('is the default alone when no pod renames it, or when no pod is known', () => {
    expect(rootCaConfigMapNames([pod({ env: [] })])).toEqual(['istio-ca-root-cert']);
    expect(rootCaConfigMapNames(undefined)).toEqual(['istio-ca-root-cert']);
    expect(rootCaConfigMapNames([])).toEqual(['istio-ca-root-cert']);
  });

  it('puts the names the pods set first, and keeps the default when some revision does not rename it', () => {
    const renamed = pod({ env: [{ name: 'PILOT_CA_CERT_CONFIGMAP', value: 'mesh-trust-bundle' }] });
    expect(rootCaConfigMapNames([renamed, renamed])).toEqual(['mesh-trust-bundle']);
    expect(rootCaConfigMapNames([pod({ env: [] }), renamed])).toEqual(['mesh-trust-bundle', 'istio-ca-root-cert']);
    expect(rootCaConfigMapNames([pod({ env: [{ name: 'PILOT_CA_CERT_CONFIGMAP', value: '' }] })])).toEqual(['istio-ca-root-cert']);
  });
});
