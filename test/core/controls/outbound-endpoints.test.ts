import { describe, expect, it } from 'vitest';
import { parseClusterStatuses } from '../../../lib/core/proxy-config/cluster-statuses.ts';
import { parseOutboundHealth, type OutboundHealth } from '../../../lib/core/proxy-config/outbound-health.ts';
import { parseVmSnapshot } from '../../../lib/core/vm-snapshot.ts';
import { buildBundle, vmOutput, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';
import { fixture } from '../../support/fixtures.ts';

const ID = 'i-0000000000000001';
const SECTION = 'envoy-clusters-health';
const healthy = fixture('envoy-clusters/sidecar-healthy.json');
const otherNetwork = fixture('envoy-clusters/sidecar-other-network.json');

function health(text: string): OutboundHealth {
  const parsed = parseOutboundHealth(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

/** One outbound cluster whose only host has this health status. */
function oneHost(status: Record<string, unknown>): string {
  return JSON.stringify({
    cluster_statuses: [
      {
        name: 'outbound|80||web.default.svc.cluster.local',
        host_statuses: [{ address: { socket_address: { address: '10.0.0.9', port_value: 80 } }, health_status: status }],
      },
    ],
  });
}

const withSection = (content: string, more: Partial<TestVm> & { rc?: number; cut?: boolean } = {}): TestVm => ({
  instanceId: ID,
  ...more,
  sections: [...(more.sections ?? []), { name: SECTION, content, rc: more.rc ?? 0, cut: more.cut ?? false }],
});
const xds06 = (vm: TestVm) => findingsOf(buildBundle({ vms: [vm] }), 'XDS-06')[ID]!;

describe("the outbound clusters' health from /clusters?format=json", () => {
  it('counts the outbound clusters of a healthy sidecar, none unhealthy, and leaves the others out', () => {
    expect(health(healthy)).toEqual({ withEndpoints: 28, withoutEndpoints: 0, unhealthy: 0, named: [] });
  });

  it('names the first ten clusters of a VM given unreachable pod addresses, with what ejected their endpoints', () => {
    const found = health(otherNetwork);
    expect(found.unhealthy).toBe(28);
    expect(found.named.map((c) => c.name)).toEqual([
      'outbound|11800||skywalking-oap.skywalking.svc.cluster.local',
      'outbound|12800||skywalking-oap.skywalking.svc.cluster.local',
      'outbound|15010||istiod.istio-system.svc.cluster.local',
      'outbound|15012||istiod.istio-system.svc.cluster.local',
      'outbound|15014||istiod.istio-system.svc.cluster.local',
      'outbound|15021||istio-ingressgateway.istio-system.svc.cluster.local',
      'outbound|3000||grafana.istio-system.svc.cluster.local',
      'outbound|4317||otel-collector.istio-system.svc.cluster.local',
      'outbound|443||cert-manager-istio-csr.cert-manager.svc.cluster.local',
      'outbound|443||cert-manager-webhook.cert-manager.svc.cluster.local',
    ]);
    expect(found.named[0]).toEqual({
      name: 'outbound|11800||skywalking-oap.skywalking.svc.cluster.local',
      endpoints: 1,
      reasons: [['failed_outlier_check', 1]],
    });
  });

  it("reads every health flag of Envoy's admin answer", () => {
    const [cluster] = (() => {
      const parsed = parseClusterStatuses(fixture('envoy-clusters/envoy-admin-flags.json'));
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.value;
    })();
    expect(cluster!.hosts[0]).toMatchObject({
      healthStatus: 'DEGRADED',
      failedOutlierCheck: true,
      flags: ['failed_active_health_check', 'failed_active_degraded_check', 'pending_dynamic_removal'],
    });
    // Not an outbound cluster: nothing to judge until it is one.
    expect(health(fixture('envoy-clusters/envoy-admin-flags.json')).withEndpoints).toBe(0);
    const outbound = health(fixture('envoy-clusters/envoy-admin-flags.json').replace('"fake_cluster"', '"outbound|80||foo.com"'));
    // DEGRADED, a failed degraded check and a pending removal leave a host in rotation: only the rest count.
    expect(outbound.named[0]!.reasons).toEqual([
      ['failed_active_health_check', 1],
      ['failed_outlier_check', 1],
    ]);
  });

  it.each([
    [{ eds_health_status: 'HEALTHY' }, 0],
    [{}, 0],
    [{ eds_health_status: 1 }, 0],
    [{ eds_health_status: 'UNHEALTHY' }, 1],
    [{ eds_health_status: 'DRAINING' }, 1],
    [{ eds_health_status: 'TIMEOUT' }, 1],
    [{ eds_health_status: 'DEGRADED' }, 0],
    [{ eds_health_status: 'DEGRADED', failed_outlier_check: true }, 1],
    [{ eds_health_status: 'HEALTHY', failed_outlier_check: true }, 1],
    [{ eds_health_status: 'HEALTHY', failed_active_health_check: true }, 1],
    [{ eds_health_status: 'HEALTHY', pending_dynamic_removal: true }, 0],
    [{ eds_health_status: 'HEALTHY', pending_active_hc: true }, 1],
    [{ eds_health_status: 'HEALTHY', excluded_via_immediate_hc_fail: true }, 1],
    [{ eds_health_status: 'HEALTHY', active_hc_timeout: true }, 1],
    [{ eds_health_status: 'HEALTHY', failed_active_degraded_check: true }, 0],
    [{ eds_health_status: 'HEALTHY', failed_outlier_check: false }, 0],
  ])('a host with health status %j makes %i cluster unhealthy', (status, unhealthy) => {
    expect(health(oneHost(status)).unhealthy).toBe(unhealthy);
  });

  it('counts a cluster with one healthy endpoint among failing ones as healthy, and an empty one apart', () => {
    const answer = JSON.parse(otherNetwork) as { cluster_statuses: Array<{ name: string; host_statuses?: unknown[] }> };
    const dns = answer.cluster_statuses.find((c) => c.name === 'outbound|53||kube-dns.kube-system.svc.cluster.local')!;
    (dns.host_statuses![1] as { health_status: unknown }).health_status = { eds_health_status: 'HEALTHY' };
    answer.cluster_statuses.push({ name: 'outbound|80||empty.default.svc.cluster.local' });
    const found = health(JSON.stringify(answer));
    expect(found).toMatchObject({ withEndpoints: 28, withoutEndpoints: 1, unhealthy: 27 });
  });

  it('keeps ten names and counts, however many clusters fail', () => {
    const clusters = Array.from({ length: 2000 }, (_, i) => ({
      name: `outbound|80||svc-${String(i).padStart(4, '0')}.default.svc.cluster.local`,
      host_statuses: [
        { address: { socket_address: { address: '10.1.0.1', port_value: 80 } }, health_status: { eds_health_status: 'UNHEALTHY' } },
      ],
    }));
    const snapshot = parseVmSnapshot(vmOutput(withSection(JSON.stringify({ cluster_statuses: clusters }))));
    expect(snapshot.outboundHealth.ok && snapshot.outboundHealth.value.unhealthy).toBe(2000);
    expect(JSON.stringify(snapshot.outboundHealth).length).toBeLessThan(1500);
  });

  it('refuses a cut answer, the text format and junk, never throwing', () => {
    expect(parseOutboundHealth(fixture('envoy-clusters/sidecar-healthy-cut.json')).ok).toBe(false);
    expect(parseOutboundHealth(fixture('envoy-clusters/text-format.txt')).ok).toBe(false);
    for (const junk of ['', 'null', '[]', '{"cluster_statuses": 3}', '{"cluster_statuses": [{"host_statuses": "x"}]}'])
      expect(parseOutboundHealth(junk).ok, junk).toBe(false);
  });
});

describe('XDS-06: outbound clusters have a healthy endpoint', () => {
  it('passes for a healthy sidecar', () => {
    expect(xds06(withSection(healthy))).toEqual({
      status: 'PASS',
      message: 'each of the 28 outbound clusters with endpoints has a healthy one',
    });
  });

  it('fails for a VM given pod addresses it cannot reach, naming ten clusters and counting the rest', () => {
    const finding = xds06(withSection(otherNetwork));
    expect(finding.status).toBe('FAIL');
    expect(finding.message).toMatch(
      /^28 of 28 outbound clusters have endpoints but none healthy, so the proxy answers `no healthy upstream`/,
    );
    expect(finding.message).toContain('outbound|15012||istiod.istio-system.svc.cluster.local (1 endpoint: 1 failed_outlier_check)');
    expect(finding.message).not.toContain('outbound|9080||reviews.default.svc.cluster.local');
    expect(finding.message).toMatch(/; and 18 more$/);
  });

  it.each([
    ['the section is missing', { instanceId: ID } as TestVm, /section envoy-clusters-health is missing/],
    ['the section was cut', withSection(healthy.slice(0, 20000), { cut: true }), /was cut/],
    ['the answer ends short', withSection(fixture('envoy-clusters/sidecar-healthy-cut.json')), /is not JSON/],
    ['the answer is the text format', withSection(fixture('envoy-clusters/text-format.txt')), /is not JSON/],
    ['Envoy refused the connection', withSection('', { rc: 7 }), /refused the connection/],
    ['curl timed out on the VM', withSection('', { rc: 124 }), /did not answer in time/],
    ['curl failed part way', withSection(healthy, { rc: 28 }), /curl exit 28/],
    ['the section holds more than the script prints', withSection(`${healthy}${' '.repeat(524288)}`), /more than the script ever prints/],
  ])('is ERROR when %s', (_what, vm, message) => {
    const finding = xds06(vm);
    expect(finding.status).toBe('ERROR');
    expect(finding.message).toMatch(message);
  });

  it('does not apply without an istio unit, or without any outbound endpoint', () => {
    const noUnit = withSection('', {
      rc: 7,
      sections: [{ name: 'systemd', content: 'LoadState=not-found\nActiveState=inactive\nSubState=dead' }],
    });
    expect(xds06(noUnit).status).toBe('SKIP');
    expect(xds06(withSection(fixture('envoy-clusters/envoy-admin-flags.json'))).status).toBe('SKIP');
  });
});
