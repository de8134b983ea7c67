import { excerpt, fail, pass, vmControl, withEvidence } from './control.ts';

/** HEALTH-01: the `istio` systemd unit is active (running). */
export const health01 = vmControl(
  {
    id: 'HEALTH-01',
    severity: 'CRITICAL',
    title: 'istio unit active (running)',
    remediation: 'Run `systemctl status istio` and `journalctl -u istio` on the VM, fix the cause, then `systemctl start istio`.',
  },
  (_vm, snapshot) =>
    withEvidence(snapshot.unit, (unit) => {
      const evidence = { activeState: unit.activeState, subState: unit.subState, mainPid: unit.mainPid ?? null };
      if (unit.notFound) return fail('there is no istio systemd unit on this VM', evidence);
      if (unit.activeState === 'active' && unit.subState === 'running') return pass('istio is active (running)', evidence);
      return fail(`istio is ${unit.activeState} (${unit.subState})`, evidence);
    }),
);

const NOT_READY_LINE = /Envoy proxy is NOT ready:[^\n]*/g;

/** HEALTH-03: the agent's readiness endpoint answers 200; the agent's own reason is quoted when logged. */
export const health03 = vmControl(
  {
    id: 'HEALTH-03',
    severity: 'CRITICAL',
    title: 'Sidecar ready (15021/healthz/ready)',
    remediation: 'Run `curl -v localhost:15021/healthz/ready` and read `/var/log/istio/istio.log` for "Envoy proxy is NOT ready".',
  },
  (vm, snapshot) =>
    withEvidence(snapshot.readiness, (r) => {
      const evidence: Record<string, unknown> = { outcome: r.outcome, httpCode: r.httpCode ?? null, curlExit: r.curlExit ?? null };
      if (r.outcome === 'ready') return pass('the readiness probe answered 200', evidence);
      const reason = latestNotReadyLine(vm.snapshot?.logText);
      if (reason) evidence.logLine = excerpt(reason);
      const what = {
        'not-ready': `answered ${r.httpCode}`,
        refused: 'refused the connection',
        timeout: 'timed out',
        error: `failed (curl exit ${r.curlExit})`,
      }[r.outcome];
      return fail(`the readiness probe ${what}${reason ? `: ${excerpt(reason, 160)}` : ''}`, evidence);
    }),
);

function latestNotReadyLine(logText: string | undefined): string | undefined {
  if (!logText) return undefined;
  const matches = logText.match(NOT_READY_LINE);
  return matches?.[matches.length - 1];
}
