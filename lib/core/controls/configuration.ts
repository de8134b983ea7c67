import { error, fail, pass, vmControl, withEvidence } from './control.ts';

// The xDS/CA cluster istiod serves on 15012, as `proxy-config clusters` names it (istiod or istiod-<rev>).
const CONTROL_PLANE_CLUSTER = /^outbound\|15012\|\|istiod(?:-[a-z0-9-]+)?\.[a-z0-9-]+\.svc\.[a-z0-9.-]+$/;

/** CFG-01: the proxy holds the control-plane cluster and no cluster is stuck warming. */
export const cfg01 = vmControl(
  {
    id: 'CFG-01',
    severity: 'MEDIUM',
    title: 'Control-plane cluster present, none warming',
    remediation:
      'Run `curl -s localhost:15000/config_dump | fleet-audit proxy-config clusters --file -` on the VM; a warming cluster waits for endpoints ' +
      '(check `istioctl proxy-config endpoints`) or for a secret.',
  },
  (_vm, snapshot) => {
    const refused = snapshot.sections.get('envoy-clusters-active')?.rc === 7;
    if (refused) return error('the Envoy admin port refused the connection: the proxy is not running (see HEALTH-01)');
    return withEvidence(snapshot.clusters, (clusters) => {
      const controlPlane = clusters.filter((c) => c.state === 'active' && CONTROL_PLANE_CLUSTER.test(c.name)).map((c) => c.name);
      const warming = clusters.filter((c) => c.state === 'warming').map((c) => c.name);
      const evidence = { clusters: clusters.length, controlPlane, warming: warming.slice(0, 20) };
      const problems: string[] = [];
      if (controlPlane.length === 0)
        problems.push('no outbound|15012||istiod… cluster: the proxy cannot reach the control plane through the mesh');
      if (warming.length > 0) problems.push(`${warming.length} cluster(s) stuck warming: ${warming.slice(0, 3).join(', ')}`);
      return problems.length === 0
        ? pass(`${controlPlane.join(', ')} present, ${clusters.length} clusters, none warming`, evidence)
        : fail(problems.join('; '), evidence);
    });
  },
);
