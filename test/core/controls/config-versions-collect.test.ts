import { describe, expect, it } from 'vitest';
import { buildBundle, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';
import { fixture } from '../../support/fixtures.ts';

const one = (vm: Omit<TestVm, 'instanceId'>, control: string) =>
  findingsOf(buildBundle({ vms: [{ instanceId: 'i-0000000000000001', ...vm }] }), control)['i-0000000000000001']!;
const clusters = (names: string[]) =>
  JSON.stringify({
    configs: names.map((name) => ({
      '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
      cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name, type: 'EDS' },
    })),
  });

describe('CFG-01', () => {
  const active = fixture('proxy-config/sidecar-clusters-active.json');
  it('passes when the istiod 15012 cluster is present and nothing warms', () => {
    const found = one(
      {
        sections: [
          { name: 'envoy-clusters-active', content: active },
          { name: 'envoy-clusters-warming', content: '{}' },
        ],
      },
      'CFG-01',
    );
    expect(found.status).toBe('PASS');
    expect(found.message).toMatch(/^outbound\|15012\|\|istiod\.istio-system\.svc\.cluster\.local present, \d+ clusters, none warming$/);
  });
  it('accepts a revisioned istiod', () => {
    const found = one(
      {
        sections: [
          { name: 'envoy-clusters-active', content: clusters(['outbound|15012||istiod-1-24.istio-system.svc.cluster.local']) },
          { name: 'envoy-clusters-warming', content: '{}' },
        ],
      },
      'CFG-01',
    );
    expect(found.status).toBe('PASS');
  });
  it('fails without the control-plane cluster or with a warming cluster', () => {
    const found = one(
      {
        sections: [
          { name: 'envoy-clusters-active', content: clusters(['outbound|80||web.default.svc.cluster.local']) },
          { name: 'envoy-clusters-warming', content: clusters(['outbound|443||api.default.svc.cluster.local']) },
        ],
      },
      'CFG-01',
    );
    expect(found).toEqual({
      status: 'FAIL',
      message:
        'no outbound|15012||istiod… cluster: the proxy cannot reach the control plane through the mesh; 1 cluster(s) stuck warming: outbound|443||api.default.svc.cluster.local',
    });
  });
  it('is ERROR when the answer is garbage', () => {
    expect(
      one(
        {
          sections: [
            { name: 'envoy-clusters-active', content: '<html>' },
            { name: 'envoy-clusters-warming', content: '{}' },
          ],
        },
        'CFG-01',
      ).status,
    ).toBe('ERROR');
  });
});

describe('XDS-04', () => {
  const server = (version: string) => ({
    name: 'envoy-server-info',
    content: JSON.stringify({
      state: 'LIVE',
      node: { id: 'sidecar~10.0.0.1~vm1.payments~payments.svc.cluster.local', metadata: { ISTIO_VERSION: version } },
    }),
  });
  const versions = (pkg: string) => ({
    name: 'versions',
    content: `package_manager=rpm\npackage_version=${pkg}\npilot_agent_version=${pkg}`,
  });
  it('passes when the running proxy is the installed package', () => {
    expect(one({ sections: [server('1.24.6'), versions('1.24.6-1')] }, 'XDS-04').status).toBe('PASS');
  });
  it('fails after an upgrade that was never restarted', () => {
    expect(one({ sections: [server('1.23.4'), versions('1.24.6')] }, 'XDS-04')).toEqual({
      status: 'FAIL',
      message: 'the package is 1.24.6 but the running proxy is 1.23.4',
    });
  });
  it('skips without a package', () => {
    expect(
      one(
        { sections: [server('1.24.6'), { name: 'versions', content: 'package_manager=\npackage_version=\npilot_agent_version=1.24.6' }] },
        'XDS-04',
      ).status,
    ).toBe('SKIP');
  });
});

describe('COLLECT-03', () => {
  const complete = ['envoy-server-info', 'envoy-stats', 'certs', 'versions'].map((name) => ({ name, content: 'x' }));
  it('names sections that are there and whole but cannot be read', () => {
    const found = one(
      {
        sections: [
          ...complete,
          { name: 'iptables-save', content: '*nat\nCOMMIT' },
          { name: 'iptables-legacy-save', content: '', rc: 127, missing: ['iptables-legacy-save'] },
        ],
      },
      'COLLECT-03',
    );
    // Present and whole but not in the format of their section: that too is said.
    expect(found).toEqual({ status: 'FAIL', message: 'unreadable: certs, envoy-server-info, envoy-stats, versions' });
  });
  it('names cut sections, absent sections and missing tools', () => {
    const found = one(
      {
        sections: [
          { name: 'envoy-stats', content: 'x', cut: true },
          { name: 'certs', content: '', rc: 127, missing: ['stat'] },
          { name: 'iptables-save', content: '', rc: 127, missing: ['iptables-save'] },
        ],
      },
      'COLLECT-03',
    );
    expect(found).toEqual({
      status: 'FAIL',
      message:
        'cut: envoy-stats; absent: envoy-server-info, versions; empty for want of a tool: certs (stat missing), iptables (no iptables-save tool)',
    });
  });
  it('fails when the whole output was cut on the way', () => {
    const vm = { instanceId: 'i-0000000000000001' };
    const bundle = buildBundle({ vms: [vm] });
    const out = bundle.invocations['i-0000000000000001']!.StandardOutputContent!;
    bundle.invocations['i-0000000000000001']!.StandardOutputContent = `${out.slice(0, out.indexOf('END readiness'))}\n--output truncated--`;
    expect(findingsOf(bundle, 'COLLECT-03')['i-0000000000000001']!.message).toMatch(
      /^the output was cut before its end; cut: readiness; absent: /,
    );
  });
});
