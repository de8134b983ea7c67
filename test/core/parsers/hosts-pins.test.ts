import { describe, expect, it } from 'vitest';
import { parseHostsPins } from '../../../lib/core/parsers/hosts-pins.ts';
import { parseMeshConfig } from '../../../lib/core/parsers/mesh-config.ts';
import { parseVmSnapshot } from '../../../lib/core/vm-snapshot.ts';
import { vmOutput } from '../../support/bundle-builder.ts';
import { fixture } from '../../support/fixtures.ts';

describe('parseHostsPins', () => {
  it('reads the line istioctl x workload entry configure writes, which upstream stores without a final newline', () => {
    expect(parseHostsPins(fixture('fake-vm/hosts'))).toEqual({
      ok: true,
      value: [{ address: '10.10.10.11', names: ['istiod-rev-1.istio-system.svc'] }],
    });
  });

  it('takes several names, IPv6 addresses, comments, blank lines and CRLF, and lower-cases names', () => {
    expect(
      parseHostsPins('# pinned by hand\r\n\n10.0.0.9\tIstiod.Istio-System.svc istiod # gateway\r\nfd00::15 istiod-1-24.istio-system.svc\n'),
    ).toEqual({
      ok: true,
      value: [
        { address: '10.0.0.9', names: ['istiod.istio-system.svc', 'istiod'] },
        { address: 'fd00::15', names: ['istiod-1-24.istio-system.svc'] },
      ],
    });
    expect(parseHostsPins('')).toEqual({ ok: true, value: [] });
  });

  it('refuses garbage rather than read half a pin: no address, an address that is none, no name', () => {
    expect(parseHostsPins('istiod.istio-system.svc 10.0.0.9\n')).toEqual({
      ok: false,
      reason: 'line 1 is not an /etc/hosts line ("<address> <name>…")',
    });
    expect(parseHostsPins('10.0.0.9 istiod.istio-system.svc\n10.0.0.256 istiod\n').ok).toBe(false);
    expect(parseHostsPins('10.0.0.9\n').ok).toBe(false);
    expect(parseHostsPins('1:2:3:4:5:6:7:8:9 istiod\n').ok).toBe(false);
    expect(parseHostsPins('\u0000\u0001binary').ok).toBe(false);
  });

  it('makes a cut section unreadable in the snapshot, and an absent /etc/hosts pin nothing', () => {
    const withHosts = (section: { content: string; rc?: number; cut?: boolean }) =>
      parseVmSnapshot(vmOutput({ instanceId: 'i-1', sections: [{ name: 'hosts', ...section }] })).hostsPins;
    expect(withHosts({ content: '10.10.10.11 istiod-rev-1.istio-', cut: true })).toEqual({ ok: false, reason: 'section hosts was cut' });
    expect(withHosts({ content: '', rc: 1 })).toEqual({ ok: true, value: [] });
    expect(withHosts({ content: 'x'.repeat(5000) })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('more than the script ever prints'),
    });
    expect(parseVmSnapshot(vmOutput({ instanceId: 'i-1' })).hostsPins).toEqual({
      ok: false,
      reason: 'section hosts is missing from the output',
    });
  });
});

describe('parseMeshConfig', () => {
  it('reads discoveryAddress from the mesh config istioctl writes', () => {
    expect(parseMeshConfig(fixture('fake-vm/mesh.yaml'))).toEqual({
      ok: true,
      value: { discoveryAddress: 'istiod-rev-1.istio-system.svc:15012' },
    });
  });

  it('gives no address for an empty file or one that sets none', () => {
    expect(parseMeshConfig('')).toEqual({ ok: true, value: { discoveryAddress: undefined } });
    expect(parseMeshConfig('defaultConfig:\n  proxyMetadata: {}\n')).toEqual({ ok: true, value: { discoveryAddress: undefined } });
  });

  it('refuses what is not YAML, or not a mesh config, and never runs a tag', () => {
    expect(parseMeshConfig('defaultConfig:\n  discoveryAddress: [unclosed\n')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^not YAML/),
    });
    expect(parseMeshConfig('- a\n- b\n').ok).toBe(false);
    expect(parseMeshConfig('defaultConfig:\n  discoveryAddress: 15012\n').ok).toBe(false);
    expect(parseMeshConfig('defaultConfig: !!js/function "function () { return 1 }"\n').ok).toBe(false);
  });
});
