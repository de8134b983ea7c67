import type { UnhealthyCluster } from '../proxy-config/outbound-health.ts';
import { error, fail, pass, skip, TIMED_OUT, vmControl, withEvidence } from './control.ts';

/** The section of Envoy's `/clusters?format=json` (docs/diagnostic-output.md). */
const SECTION = 'envoy-clusters-health';

/**
 * XDS-06: every outbound cluster that has endpoints has a healthy one. A proxy that holds endpoints it
 * cannot use answers `no healthy upstream` for that service while every other control passes: the
 * common case is a VM on another network that receives the pods' addresses instead of the east-west
 * gateway's (istio/istio#42411), which connection failures then eject. A cluster without any endpoint is
 * an empty service, not this control's subject.
 */
export const xds06 = vmControl(
  {
    id: 'XDS-06',
    severity: 'HIGH',
    title: 'Outbound clusters have a healthy endpoint',
    remediation:
      "On the VM, `curl -s 'localhost:15000/clusters?format=json' | fleet-audit proxy-config endpoints --file - --cluster '<cluster>'` lists the " +
      "endpoints and their health. Pod addresses the VM cannot route to mean its network is not the mesh's: set ISTIO_META_NETWORK in cluster.env " +
      'to the network the east-west gateway serves (and `topology.istio.io/network` on the WorkloadGroup), then restart the istio unit; ' +
      'endpoints failing health or outlier checks are unreachable from the VM (security groups, routes). An ERROR saying the answer was ' +
      "cut means the proxy holds more endpoints than the script keeps (512 KiB): scope what it receives with a Sidecar resource's egress hosts.",
  },
  (_vm, snapshot) => {
    if (snapshot.unit.ok && snapshot.unit.value.notFound) return skip('there is no istio unit on this VM (HEALTH-01 reports it)');
    const section = snapshot.sections.get(SECTION);
    if (section?.rc === 7) return error('the Envoy admin port refused the connection: the proxy is not running (see HEALTH-01)');
    if (section?.rc === TIMED_OUT) return error("Envoy's /clusters did not answer in time on the VM");
    // curl's answer when it failed part way (a timeout, a reset) may be any prefix: never read as whole.
    if (section && !section.cut && section.rc !== 0) return error(`Envoy's /clusters could not be read (curl exit ${section.rc})`);
    return withEvidence(snapshot.outboundHealth, (health) => {
      const evidence = {
        outboundWithEndpoints: health.withEndpoints,
        outboundWithoutEndpoints: health.withoutEndpoints,
        unhealthy: health.unhealthy,
        clusters: health.named.map((c) => ({ name: c.name, endpoints: c.endpoints, reasons: Object.fromEntries(c.reasons) })),
      };
      if (health.withEndpoints === 0)
        return skip('the proxy holds no outbound cluster with endpoints: there is no endpoint to judge', evidence);
      if (health.unhealthy === 0)
        return pass(`each of the ${health.withEndpoints} outbound clusters with endpoints has a healthy one`, evidence);
      const rest = health.unhealthy - health.named.length;
      return fail(
        `${health.unhealthy} of ${health.withEndpoints} outbound clusters have endpoints but none healthy, so the proxy answers ` +
          `\`no healthy upstream\` for them: ${health.named.map(describe).join('; ')}${rest > 0 ? `; and ${rest} more` : ''}`,
        evidence,
      );
    });
  },
);

function describe(cluster: UnhealthyCluster): string {
  return `${cluster.name} (${cluster.endpoints} endpoint${cluster.endpoints === 1 ? '' : 's'}: ${cluster.reasons.map(([r, n]) => `${n} ${r}`).join(', ')})`;
}
