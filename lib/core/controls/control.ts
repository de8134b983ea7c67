import type { Contradiction, VmRecord } from '../join.ts';
import type { MeshView } from '../mesh-view.ts';
import type { CertificateInfo } from '../certificates/pem.ts';
import type { Finding, FindingStatus, Severity, SubjectKind } from '../report.ts';
import type { Evidence } from '../result.ts';
import type { VmSnapshot } from '../vm-snapshot.ts';

/** Configurable thresholds; the defaults are docs/controls.md's. */
export interface Thresholds {
  /** HEALTH-04: restarts at or above this count are a loop… */
  maxRestarts: number;
  /** HEALTH-04: …unless the current start is older than this. */
  stableAfterMinutes: number;
  /** LOGS-01: "gRPC config stream closed" counts as repeating from this many lines on (it is normal every 30 min). */
  streamClosedRepeats: number;
  /** CERT-01: the share of the leaf's lifetime that must remain (Istio rotates at 50 %). */
  minRemainingLifetime: number;
  /** CERT-03: days the root certificate must still be valid. */
  rootMinDays: number;
  /** CERT-05: allowed clock difference between the VM and the auditor. */
  maxClockSkewSeconds: number;
  /** XDS-03: how many minor versions a proxy may lag behind istiod. */
  maxMinorVersionsBehind: number;
  /**
   * REG-03: an entry's connectedAt older than this has leaked, when the controlling istiod's own
   * `--keepaliveMaxServerConnectionAge` is not in the evidence (1.5 × the Helm chart's 30m); otherwise the
   * window is 1.5 × that flag's value (liveness-window.ts).
   */
  maxConnectedAgeMinutes: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  maxRestarts: 3,
  stableAfterMinutes: 10,
  streamClosedRepeats: 10,
  minRemainingLifetime: 0.25,
  rootMinDays: 30,
  maxClockSkewSeconds: 60,
  maxMinorVersionsBehind: 1,
  maxConnectedAgeMinutes: 45,
};

/** Everything a control may read. `now` comes from the evidence, never from the machine that analyzes. */
export interface AuditContext {
  now: Date;
  vms: VmRecord[];
  mesh: MeshView;
  /** namespace → the certificates of its istio-ca-root-cert ConfigMap (the mesh's trust anchors). */
  meshRoots: Map<string, CertificateInfo[]>;
  thresholds: Thresholds;
}

/** A control of the catalogue (docs/controls.md): a stable id, a default severity and its rule. */
export interface Control {
  id: string;
  severity: Severity;
  title: string;
  subject: SubjectKind;
  remediation: string;
  evaluate(ctx: AuditContext): Finding[];
}

/** The outcome of a control for one subject, before the control's fixed fields are added. */
export interface Outcome {
  status: FindingStatus;
  message: string;
  evidence?: Record<string, unknown>;
  /** A severity of its own, when the catalogue says so (XDS-02's NOT SENT is LOW). */
  severity?: Severity;
}

export const pass = (message: string, evidence?: Record<string, unknown>): Outcome => ({ status: 'PASS', message, evidence });
export const fail = (message: string, evidence?: Record<string, unknown>): Outcome => ({ status: 'FAIL', message, evidence });
export const error = (message: string, evidence?: Record<string, unknown>): Outcome => ({ status: 'ERROR', message, evidence });
export const skip = (message: string, evidence?: Record<string, unknown>): Outcome => ({ status: 'SKIP', message, evidence });

/**
 * What a control that needs the cluster says when the bundle lacks it: SKIP with the reason when the run read
 * no cluster on purpose (none is configured), else ERROR with `missing`.
 */
export function withoutCluster(ctx: AuditContext, missing = 'the bundle holds no cluster evidence (cluster/ is missing)'): Outcome {
  return ctx.mesh.notRead === undefined ? error(missing) : skip(ctx.mesh.notRead);
}

/** Turns an outcome into a finding of `control` about one subject. */
export function toFinding(control: Omit<Control, 'evaluate'>, subjectId: string, outcome: Outcome): Finding {
  return {
    control: control.id,
    status: outcome.status,
    severity: outcome.severity ?? control.severity,
    subject: { kind: control.subject, id: subjectId },
    message: outcome.message,
    evidence: outcome.evidence ?? {},
    remediation: control.remediation,
  };
}

/** Makes a finding of one control about one subject; `.fleet` speaks of the fleet as a whole. */
export interface FindingOf {
  (subjectId: string, outcome: Outcome): Finding;
  fleet(outcome: Outcome): Finding;
}

/** Defines a control over subjects of its own (entries, proxies, the fleet): `evaluate` returns its findings. */
export function defineControl(
  definition: Omit<Control, 'evaluate'>,
  evaluate: (ctx: AuditContext, finding: FindingOf) => Finding[],
): Control {
  const finding = Object.assign((subjectId: string, outcome: Outcome) => toFinding(definition, subjectId, outcome), {
    fleet: (outcome: Outcome) => toFinding({ ...definition, subject: 'fleet' }, 'fleet', outcome),
  });
  return { ...definition, evaluate: (ctx) => evaluate(ctx, finding) };
}

/** Defines a control whose subject is each VM; VMs without readable output get ERROR, never PASS. */
export function vmControl(
  definition: Omit<Control, 'evaluate' | 'subject'>,
  decide: (vm: VmRecord, snapshot: VmSnapshot, ctx: AuditContext) => Outcome | Outcome[],
): Control {
  const control: Omit<Control, 'evaluate'> = { ...definition, subject: 'vm' };
  return {
    ...control,
    evaluate: (ctx) =>
      ctx.vms.flatMap((vm) => {
        if (!vm.snapshot?.readable)
          return [toFinding(control, vm.instanceId, error(`no diagnostic output to evaluate: ${whyNoOutput(vm)}`))];
        const outcomes = decide(vm, vm.snapshot, ctx);
        return (Array.isArray(outcomes) ? outcomes : [outcomes]).map((outcome) => toFinding(control, vm.instanceId, outcome));
      }),
  };
}

/**
 * Defines a control that reads the VM ↔ mesh join: when two VMs claim the same proxy name or address, or the
 * VM's claim is contradicted by its own state or SSM's (join.ts), it is ERROR naming them, never an answer
 * about a VM picked at random or one that rests on another machine's evidence. `decides` names the kinds of
 * contradiction the control itself judges (REG-07 judges the address), which then do not stop it. SKIP when
 * the run read no cluster on purpose.
 */
export function joinedVmControl(
  definition: Omit<Control, 'evaluate' | 'subject'>,
  decide: (vm: VmRecord, snapshot: VmSnapshot, ctx: AuditContext) => Outcome | Outcome[],
  options: { decides?: ReadonlyArray<Contradiction['kind']> } = {},
): Control {
  return vmControl(definition, (vm, snapshot, ctx) => {
    // Without a cluster there is no join to judge, nor to call ambiguous.
    if (ctx.mesh.notRead !== undefined) return skip(ctx.mesh.notRead);
    if (vm.ambiguities.length > 0)
      return error(`the join with the mesh is ambiguous: ${vm.ambiguities.join('; ')}`, { proxy: vm.proxyName ?? null });
    const contradictions = vm.contradictions.filter((c) => !options.decides?.includes(c.kind));
    if (contradictions.length > 0) {
      return error(
        `the VM's claims contradict what the mesh and SSM know, so the mesh's evidence cannot be taken as the VM's: ${contradictions.map((c) => c.message).join('; ')}`,
        {
          proxy: vm.proxyName ?? null,
          contradictions: contradictions.map((c) => c.kind),
        },
      );
    }
    return decide(vm, snapshot, ctx);
  });
}

/** Why a VM has no readable diagnostic output, for ERROR messages. */
export function whyNoOutput(vm: VmRecord): string {
  const inv = vm.invocation;
  if (!inv) return 'no invocation was recorded for it (see COLLECT-01)';
  if (inv.Status !== 'Success')
    return `the SSM invocation ended ${inv.Status}${inv.StatusDetails && inv.StatusDetails !== inv.Status ? ` (${inv.StatusDetails})` : ''} (see COLLECT-01)`;
  return vm.snapshot?.problems[0] ?? 'its output could not be parsed (see COLLECT-01)';
}

/** Applies `decide` to available evidence, or returns ERROR with the reason the evidence is unavailable. */
export function withEvidence<T>(evidence: Evidence<T>, decide: (value: T) => Outcome): Outcome {
  return evidence.ok ? decide(evidence.value) : error(evidence.reason);
}

/** The rc the script gives a section whose command it stopped with `timeout` (docs/diagnostic-output.md). */
export const TIMED_OUT = 124;

/** Cuts a string a VM sent to a length that fits in a report. */
export function excerpt(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
