import type { Control } from './control.ts';
import { error, excerpt, fail, pass, toFinding } from './control.ts';

const COLLECT_01 = {
  id: 'COLLECT-01',
  severity: 'HIGH',
  title: 'Diagnostics collected through SSM',
  subject: 'vm',
  remediation:
    'Check the node in Systems Manager (Fleet Manager) and `aws ssm list-command-invocations --command-id <id> --details`; ' +
    'an Undeliverable node usually has a stopped SSM agent or lost its instance profile.',
} as const satisfies Omit<Control, 'evaluate'>;

/** COLLECT-01: the SSM invocation ended Success and its output parsed; otherwise the VM is UNKNOWN. */
export const collect01: Control = {
  ...COLLECT_01,
  evaluate: (ctx) =>
    ctx.vms.map((vm) => {
      const inv = vm.invocation;
      if (!inv) return toFinding(COLLECT_01, vm.instanceId, fail('no SSM invocation was recorded for this VM'));
      const evidence = { status: inv.Status, statusDetails: inv.StatusDetails ?? null, responseCode: inv.ResponseCode ?? null };
      if (inv.Status !== 'Success') {
        const detail = inv.StatusDetails ?? inv.Status;
        return toFinding(COLLECT_01, vm.instanceId, fail(`the SSM invocation ended ${inv.Status}: ${detail}`, {
          ...evidence,
          stderr: excerpt(inv.StandardErrorContent ?? ''),
        }));
      }
      if (inv.ResponseCode !== undefined && inv.ResponseCode !== 0) {
        return toFinding(COLLECT_01, vm.instanceId, fail(`the diagnostic script could not run (exit ${inv.ResponseCode})`, {
          ...evidence,
          stderr: excerpt(inv.StandardErrorContent ?? ''),
        }));
      }
      if (!vm.snapshot?.readable) {
        return toFinding(COLLECT_01, vm.instanceId, error(`the output could not be parsed: ${vm.snapshot?.problems[0] ?? 'it is empty'}`, {
          ...evidence,
          stdout: excerpt(inv.StandardOutputContent ?? '', 200),
        }));
      }
      return toFinding(COLLECT_01, vm.instanceId, pass('the diagnostic script ran and its output parsed', evidence));
    }),
};
