import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseClusterEnv, parseKeyValueLines } from '../../../lib/core/parsers/key-value.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/istio-samples/${name}`, import.meta.url), 'utf8');

describe('parseClusterEnv', () => {
  it('reads the cluster.env istioctl writes (sorted, single-quoted)', () => {
    const env = parseClusterEnv(fixture('vmconfig-ipv4.cluster.env'));
    expect(env.get('ISTIO_NAMESPACE')).toBe('bar');
    expect(env.get('SERVICE_ACCOUNT')).toBe('vm-serviceaccount');
    expect(env.get('ISTIO_META_NETWORK')).toBe('');
    expect(env.get('ISTIO_METAJSON_LABELS')).toBe(
      '{"service.istio.io/canonical-name":"foo","service.istio.io/canonical-revision":"latest"}',
    );
    expect(env.get('ISTIO_LOCAL_EXCLUDE_PORTS')).toBe('22,15090,15021,15020');
    expect(env.size).toBe(20);
  });

  it('reads hand-edited forms: export, double quotes with escapes, bare words, comments', () => {
    const env = parseClusterEnv(
      [
        '# comment',
        'export ISTIO_NAMESPACE=payments',
        'ISTIO_AGENT_FLAGS="--proxyLogLevel=debug \\"x\\""',
        'A=b # trailing',
        "B='it'\\''s'",
        '  ',
        'not a line',
      ].join('\n'),
    );
    expect(Object.fromEntries(env)).toEqual({
      ISTIO_NAMESPACE: 'payments',
      ISTIO_AGENT_FLAGS: '--proxyLogLevel=debug "x"',
      A: 'b',
      B: "it's",
    });
  });

  it('keeps what it can of a truncated file', () => {
    const text = fixture('vmconfig-ipv4.cluster.env');
    const env = parseClusterEnv(text.slice(0, text.indexOf("ISTIO_NAMESPACE='b") + 18));
    expect(env.get('CA_ADDR')).toBe('istiod-rev-1.istio-system.svc:15012');
    expect(env.get('ISTIO_NAMESPACE')).toBe('b');
  });

  it('returns nothing for garbage and binary bytes without throwing', () => {
    expect(parseClusterEnv("\u0000\u0001\u00ff===\n'''\"").size).toBe(0);
    expect(parseClusterEnv(`X='${'a'.repeat(10_000_000)}`).get('X')?.length).toBe(10_000_000);
  });
});

describe('parseKeyValueLines', () => {
  it('splits on the first = and lets later keys win', () => {
    const kv = parseKeyValueLines('a=1\nb=x=y\r\na=2\n=nokey\nnoequals');
    expect(Object.fromEntries(kv)).toEqual({ a: '2', b: 'x=y' });
  });
});
