import { defineControl, error, fail, pass, withoutCluster, type Outcome } from './control.ts';

/** FLEET-01: every istiod replica answered its proxy-status query (else XDS-01 is unreliable and its failures become ERROR). */
export const fleet01 = defineControl(
  {
    id: 'FLEET-01',
    severity: 'HIGH',
    title: 'Every istiod replica answered',
    subject: 'fleet',
    remediation:
      'Check the silent replica (`kubectl -n istio-system get pods -l app=istiod`, `kubectl -n istio-system port-forward <pod> 15014` then ' +
      '`curl localhost:15014/debug/syncz`); the auditor needs create on pods/portforward in istio-system (infra/k8s/rbac.yaml).',
  },
  (ctx, findingOf) => {
    const finding = (outcome: Outcome) => [findingOf.fleet(outcome)];
    if (!ctx.mesh.available) return finding(withoutCluster(ctx));
    const problems = ctx.mesh.problems.filter((p) => p.part === 'syncz' || p.part === 'istiod-pods');
    const evidence = {
      replicas: ctx.mesh.istiods.map((i) => ({ name: i.name, phase: i.phase ?? null, answered: i.answered })),
      problems: problems.map((p) => `${p.target ?? p.part}: ${p.call} ${p.kind}${p.status ? ` ${p.status}` : ''}: ${p.message}`),
    };
    const podsUnread = problems.find((p) => p.part === 'istiod-pods');
    if (podsUnread || ctx.mesh.missingParts.includes('cluster/istiod-pods.json')) {
      return finding(
        error(
          `the istiod pods could not be listed${podsUnread ? ` (${podsUnread.kind}: ${podsUnread.message})` : ' (cluster/istiod-pods.json is missing)'}: which replicas should have answered is unknown`,
          evidence,
        ),
      );
    }
    if (ctx.mesh.istiods.length === 0) return finding(fail('no istiod replica was found, so no proxy status could be read', evidence));
    const silent = ctx.mesh.istiods.filter((i) => !i.answered);
    if (silent.length > 0) {
      const why = problems.find((p) => p.target && silent.some((s) => s.name === p.target));
      return finding(
        fail(`${silent.map((s) => s.name).join(', ')} did not answer${why ? ` (${why.kind}: ${why.message})` : ''}`, evidence),
      );
    }
    return finding(pass(`all ${ctx.mesh.istiods.length} istiod replicas answered`, evidence));
  },
);
