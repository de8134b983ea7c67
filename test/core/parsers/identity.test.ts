import { describe, expect, it } from 'vitest';
import { parseIdentity } from '../../../lib/core/parsers/identity.ts';

describe('parseIdentity', () => {
  it('reads the identity section', () => {
    const parsed = parseIdentity(
      'hostname=ip-10-0-1-5\nips=10.0.1.5 fe80::1 not-an-ip!\nclock=1764138000\nos=Debian GNU/Linux 12 (bookworm)\nproxy_uid=998\nproxy_gid=997\n',
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        hostname: 'ip-10-0-1-5',
        ips: ['10.0.1.5', 'fe80::1'],
        clockEpochSeconds: 1764138000,
        os: 'Debian GNU/Linux 12 (bookworm)',
        proxyUid: 998,
        proxyGid: 997,
      },
    });
  });

  it('has no istio-proxy ids when the user does not exist', () => {
    expect(parseIdentity('hostname=vm1\nproxy_uid=\nproxy_gid=')).toMatchObject({
      ok: true,
      value: { proxyUid: undefined, proxyGid: undefined },
    });
  });

  it('refuses a hostname that is not a short host name (it becomes part of the proxy name)', () => {
    expect(parseIdentity('hostname=vm1.example.com')).toMatchObject({ ok: false });
    expect(parseIdentity('hostname=<script>')).toMatchObject({ ok: false });
  });

  it('is unavailable when truncated before the hostname, and for garbage', () => {
    expect(parseIdentity('hostn')).toMatchObject({ ok: false });
    expect(parseIdentity('\u0000\u0001')).toMatchObject({ ok: false });
  });
});
