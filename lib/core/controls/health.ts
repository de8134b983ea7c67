import { error, excerpt, fail, pass, vmControl, withEvidence } from './control.ts';

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

/** HEALTH-02: the unit is enabled, so it comes back after a reboot. */
export const health02 = vmControl(
  {
    id: 'HEALTH-02',
    severity: 'MEDIUM',
    title: 'istio unit enabled at boot',
    remediation: 'Run `systemctl enable istio` on the VM.',
  },
  (_vm, snapshot) =>
    withEvidence(snapshot.unit, (unit) => {
      const evidence = { unitFileState: unit.unitFileState ?? null };
      if (unit.notFound) return fail('there is no istio systemd unit on this VM', evidence);
      if (unit.unitFileState === undefined) return error('systemd did not report the unit file state', evidence);
      // enabled-runtime is gone after a reboot, which is exactly what this control is about.
      if (unit.unitFileState === 'enabled') return pass('the unit is enabled', evidence);
      return fail(`the unit is ${unit.unitFileState}: it will not start after a reboot`, evidence);
    }),
);

/**
 * HEALTH-04: the unit is not restart-looping. Without the previous audit's count, "no restart since the
 * last audit" is read as NRestarts = 0 (systemd counts automatic restarts since the unit was loaded).
 */
export const health04 = vmControl(
  {
    id: 'HEALTH-04',
    severity: 'HIGH',
    title: 'istio unit not restart-looping',
    remediation: 'Read `journalctl -u istio -n 200` for the reason the agent exits; `systemctl status istio` shows the restart count.',
  },
  (_vm, snapshot, ctx) =>
    withEvidence(snapshot.unit, (unit) => {
      if (unit.nRestarts === undefined) return error('systemd did not report NRestarts (systemd older than 235?)');
      const evidence: Record<string, unknown> = {
        nRestarts: unit.nRestarts,
        activeEnter: unit.activeEnterMs === undefined ? null : new Date(unit.activeEnterMs).toISOString(),
      };
      if (unit.nRestarts === 0) return pass('the unit has not restarted', evidence);
      if (unit.activeEnterMs === undefined)
        return error(`the unit restarted ${unit.nRestarts} times and its current start time is unknown`, evidence);
      const minutes = Math.floor((ctx.now.getTime() - unit.activeEnterMs) / 60_000);
      evidence.currentStartMinutesAgo = minutes;
      if (unit.nRestarts < ctx.thresholds.maxRestarts && minutes >= ctx.thresholds.stableAfterMinutes) {
        return pass(`${unit.nRestarts} automatic restart(s), stable for ${minutes} min`, evidence);
      }
      return fail(`the unit restarted ${unit.nRestarts} times; the current start is ${minutes} min old`, evidence);
    }),
);

/** Envoy's `server.state` gauge: 0 LIVE, 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING (envoy.admin.v3.ServerInfo.State). */
const SERVER_STATES = ['LIVE', 'DRAINING', 'PRE_INITIALIZING', 'INITIALIZING'];

/** HEALTH-05: Envoy is LIVE, connected to the control plane, and rejected no CDS/LDS update. */
export const health05 = vmControl(
  {
    id: 'HEALTH-05',
    severity: 'HIGH',
    title: 'Envoy live and connected to the control plane',
    remediation:
      'Run `curl -s localhost:15000/stats | grep -E "connected_state|update_rejected"`; a rejected update is logged by Envoy with the reason ' +
      '(`journalctl -u istio | grep -i rejected`); check istiod reachability on 15012.',
  },
  (_vm, snapshot) => {
    if (snapshot.sections.get('envoy-stats')?.rc === 7) return fail('Envoy is not running: its admin port refused the connection');
    return withEvidence(snapshot.stats, (stats) => {
      const state = stats.get('server.state');
      const connected = stats.get('control_plane.connected_state');
      const cdsRejected = stats.get('cluster_manager.cds.update_rejected');
      const ldsRejected = stats.get('listener_manager.lds.update_rejected');
      const evidence = {
        serverState: state ?? null,
        connectedState: connected ?? null,
        cdsUpdateRejected: cdsRejected ?? null,
        ldsUpdateRejected: ldsRejected ?? null,
      };
      const missing = Object.entries(evidence)
        .filter(([, v]) => v === null)
        .map(([k]) => k);
      if (missing.length > 0) return error(`Envoy did not report ${missing.join(', ')}`, evidence);
      const problems: string[] = [];
      if (state !== 0) problems.push(`Envoy is ${SERVER_STATES[state!] ?? `in state ${state}`}, not LIVE`);
      if (connected !== 1) problems.push('Envoy holds no control-plane connection');
      if (cdsRejected! > 0) problems.push(`${cdsRejected} CDS update(s) rejected`);
      if (ldsRejected! > 0) problems.push(`${ldsRejected} LDS update(s) rejected`);
      return problems.length === 0
        ? pass('Envoy is LIVE, connected, and rejected no update', evidence)
        : fail(problems.join('; '), evidence);
    });
  },
);
