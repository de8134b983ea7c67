import { IPTABLES_SECTIONS } from '../vm-snapshot.ts';
import { defineControl, error, excerpt, fail, pass, TIMED_OUT, vmControl } from './control.ts';

/** COLLECT-01: the SSM invocation ended Success and its output parsed; otherwise the VM is UNKNOWN. */
export const collect01 = defineControl(
  {
    id: 'COLLECT-01',
    severity: 'HIGH',
    title: 'Diagnostics collected through SSM',
    subject: 'vm',
    remediation:
      'Check the node in Systems Manager (Fleet Manager) and `aws ssm list-command-invocations --command-id <id> --details`; ' +
      'an Undeliverable node usually has a stopped SSM agent or lost its instance profile.',
  },
  (ctx, finding) =>
    ctx.vms.map((vm) => {
      const inv = vm.invocation;
      if (!inv) return finding(vm.instanceId, fail('no SSM invocation was recorded for this VM'));
      const evidence = { status: inv.Status, statusDetails: inv.StatusDetails ?? null, responseCode: inv.ResponseCode ?? null };
      // The collector could not trust or hold the output (too large, not the one SSM returned): nothing of it is evidence.
      if (inv.FleetAuditCollectionError) return finding(vm.instanceId, error(inv.FleetAuditCollectionError, evidence));
      if (inv.Status !== 'Success') {
        const detail = inv.StatusDetails ?? inv.Status;
        return finding(
          vm.instanceId,
          fail(`the SSM invocation ended ${inv.Status}: ${detail}`, {
            ...evidence,
            stderr: excerpt(inv.StandardErrorContent ?? ''),
          }),
        );
      }
      if (inv.ResponseCode !== undefined && inv.ResponseCode !== 0) {
        return finding(
          vm.instanceId,
          fail(`the diagnostic script could not run (exit ${inv.ResponseCode})`, {
            ...evidence,
            stderr: excerpt(inv.StandardErrorContent ?? ''),
          }),
        );
      }
      if (!vm.snapshot?.readable) {
        return finding(
          vm.instanceId,
          error(`the output could not be parsed: ${vm.snapshot?.problems[0] ?? 'it is empty'}`, {
            ...evidence,
            stdout: excerpt(inv.StandardOutputContent ?? '', 200),
          }),
        );
      }
      return finding(vm.instanceId, pass('the diagnostic script ran and its output parsed', evidence));
    }),
);

/** COLLECT-02: the managed node's SSM PingStatus is Online, and every targeted VM is in the inventory. */
export const collect02 = defineControl(
  {
    id: 'COLLECT-02',
    severity: 'MEDIUM',
    title: 'SSM agent online',
    subject: 'vm',
    remediation:
      'Check the SSM agent on the node (`systemctl status amazon-ssm-agent`) and its network path to the Systems Manager endpoints; an Inactive node is stopped or terminated.',
  },
  (ctx, finding) =>
    ctx.vms.map((vm) => {
      if (!vm.inventory)
        return finding(vm.instanceId, fail('the VM was targeted but is not in the SSM inventory (not a managed node, or deregistered)'));
      const ping = vm.inventory.PingStatus;
      const evidence = {
        pingStatus: ping ?? null,
        lastPing: vm.inventory.LastPingDateTime ?? null,
        agentVersion: vm.inventory.AgentVersion ?? null,
      };
      if (ping === 'Online') return finding(vm.instanceId, pass('the SSM agent is Online', evidence));
      if (!ping) return finding(vm.instanceId, error("the inventory does not say the node's PingStatus", evidence));
      return finding(vm.instanceId, fail(`the SSM agent is ${ping}`, evidence));
    }),
);

/** Sections the controls read; COLLECT-03 names those that are missing. */
const REQUIRED_SECTIONS = [
  'identity',
  'systemd',
  'readiness',
  'envoy-server-info',
  'envoy-stats',
  'logs',
  'cluster-env',
  'certs',
  'versions',
];

/**
 * COLLECT-03: no section was cut, missing, empty for want of a tool, malformed (duplicated, an unknown
 * marker line, too many sections) or unreadable by its parser. A VM that prints its sections twice with
 * garbage is therefore never COMPLIANT in silence; the controls that needed a section are ERROR.
 */
export const collect03 = vmControl(
  {
    id: 'COLLECT-03',
    severity: 'LOW',
    title: 'Diagnostics complete',
    remediation:
      'Install the missing tools (curl, iptables, openssl, systemd) or raise the section limits; a cut SSM output needs an S3 output bucket.',
  },
  (_vm, snapshot) => {
    const cut = [...snapshot.sections].filter(([, s]) => s.cut).map(([name]) => name);
    const absent = REQUIRED_SECTIONS.filter((name) => !snapshot.sections.has(name));
    const iptables = IPTABLES_SECTIONS.filter((name) => name.startsWith('iptables') && snapshot.sections.has(name));
    const anyIptables = iptables.some((name) => (snapshot.sections.get(name)?.missing.length ?? 0) === 0);
    const toolless = [...snapshot.sections]
      .filter(
        ([name, s]) =>
          s.missing.length > 0 &&
          !(IPTABLES_SECTIONS as readonly string[]).includes(name) &&
          !(name === 'versions' && s.missing.length < 3),
      )
      .map(([name, s]) => `${name} (${s.missing.join(', ')} missing)`);
    if (!anyIptables) toolless.push('iptables (no iptables-save tool)');
    const timedOut = [...snapshot.sections].filter(([, s]) => s.rc === TIMED_OUT).map(([name]) => name);
    // The output's own problems, but the cut end: `truncated` says that once.
    const malformed = snapshot.problems.filter((p) => !p.startsWith('the output ends before its DONE line'));
    const { unparseable } = snapshot;
    const evidence = { cut, absent, missingTools: toolless, timedOut, malformed, unparseable, truncated: snapshot.truncated };
    const problems = [
      ...(snapshot.truncated ? ['the output was cut before its end'] : []),
      ...(malformed.length ? [`malformed: ${malformed.join('; ')}`] : []),
      ...(unparseable.length ? [`unreadable: ${unparseable.join(', ')}`] : []),
      ...(timedOut.length ? [`timed out: ${timedOut.join(', ')}`] : []),
      ...(cut.length ? [`cut: ${cut.join(', ')}`] : []),
      ...(absent.length ? [`absent: ${absent.join(', ')}`] : []),
      ...(toolless.length ? [`empty for want of a tool: ${toolless.join(', ')}`] : []),
    ];
    return problems.length === 0 ? pass('every section is complete', evidence) : fail(problems.join('; '), evidence);
  },
);
