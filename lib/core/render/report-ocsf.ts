import type { Finding, FindingStatus, Report, Severity, VmSummary } from '../report.ts';
import { findingPlacer } from './finding-subject.ts';

/**
 * The OCSF version the events follow. 1.3.0 is the first in which a Compliance Finding carries
 * `resources` (a list) instead of the single `resource` (https://schema.ocsf.io/1.3.0/classes/compliance_finding).
 */
export const OCSF_VERSION = '1.3.0';

/** What the report itself does not hold but the events name: the tool's version and the run's AWS region. */
export interface OcsfContext {
  toolVersion?: string;
  region?: string;
}

// Compliance Finding (class 2003) of the Findings category (2); type_uid is class_uid * 100 + activity_id.
const CLASS_UID = 2003;
const CATEGORY_UID = 2;
const ACTIVITY_CREATE = 1;

// https://schema.ocsf.io/1.3.0/classes/compliance_finding: severity_id.
const SEVERITY_IDS: Record<Severity, { id: number; caption: string }> = {
  INFORMATIONAL: { id: 1, caption: 'Informational' },
  LOW: { id: 2, caption: 'Low' },
  MEDIUM: { id: 3, caption: 'Medium' },
  HIGH: { id: 4, caption: 'High' },
  CRITICAL: { id: 5, caption: 'Critical' },
};

/**
 * The compliance object's status_id (https://schema.ocsf.io/1.3.0/objects/compliance): a WAIVED check still
 * failed (the event's own status says it is suppressed); ERROR could not be judged for want of evidence,
 * which is OCSF's Warning; SKIP has no OCSF value, so it is Other with the source's label.
 */
const COMPLIANCE_STATUS: Record<FindingStatus, { id: number; caption: string }> = {
  PASS: { id: 1, caption: 'Pass' },
  ERROR: { id: 2, caption: 'Warning' },
  FAIL: { id: 3, caption: 'Fail' },
  WAIVED: { id: 3, caption: 'Fail' },
  SKIP: { id: 99, caption: 'Skip' },
};

const PRODUCT = { uid: 'fleet-audit', name: 'Istio VM fleet audit', vendor_name: 'Istio VM fleet audit' } as const;
/** The standard the controls belong to: the project's own catalogue (docs/controls.md). */
const STANDARD = 'Istio VM fleet audit controls';

/**
 * report.ocsf.json: every finding as an OCSF Compliance Finding event, for a SIEM or a security data lake.
 * The file is a JSON array with one event per line. finding_info.uid is the finding's fingerprint (control,
 * subject kind, subject id), the same from run to run, so a consumer can follow one finding over time;
 * metadata.uid names the event of this run.
 */
export function renderReportOcsf(report: Report, context: OcsfContext = {}): string {
  return [...reportOcsfChunks(report, context)].join('');
}

/** report.ocsf.json an event (a line) at a time, so that a writer never holds the whole text. */
export function* reportOcsfChunks(report: Report, context: OcsfContext = {}): Generator<string> {
  if (report.findings.length === 0) {
    yield '[]\n';
    return;
  }
  const place = findingPlacer(report);
  const time = Date.parse(report.finishedAt);
  const seen = new Map<string, number>();
  yield '[\n';
  for (let i = 0; i < report.findings.length; i++) {
    const f = report.findings[i]!;
    const fingerprint = `${f.control}:${f.subject.kind}:${f.subject.id}`;
    // Two findings of one control about one subject are rare but allowed; each event still gets its own uid.
    const n = (seen.get(fingerprint) ?? 0) + 1;
    seen.set(fingerprint, n);
    const uid = n === 1 ? fingerprint : `${fingerprint}:${n}`;
    const { vm, namespace } = place(f);
    yield `${JSON.stringify(findingEvent(report, f, { uid, time, vm, namespace, context }))}${i === report.findings.length - 1 ? '\n]\n' : ',\n'}`;
  }
}

interface EventPlace {
  uid: string;
  time: number;
  vm: VmSummary | undefined;
  namespace: string | undefined;
  context: OcsfContext;
}

function findingEvent(report: Report, f: Finding, { uid, time, vm, namespace, context }: EventPlace): Record<string, unknown> {
  const severity = SEVERITY_IDS[f.severity];
  const compliance = COMPLIANCE_STATUS[f.status];
  // The event's own status is the consumer's workflow state: a waived FAIL is a reviewed, accepted one.
  const status = f.status === 'WAIVED' ? { id: 3, caption: 'Suppressed' } : { id: 1, caption: 'New' };
  const title = report.summary.byControl[f.control]?.title ?? f.control;
  return {
    activity_id: ACTIVITY_CREATE,
    activity_name: 'Create',
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    class_uid: CLASS_UID,
    class_name: 'Compliance Finding',
    type_uid: CLASS_UID * 100 + ACTIVITY_CREATE,
    type_name: 'Compliance Finding: Create',
    severity_id: severity.id,
    severity: severity.caption,
    status_id: status.id,
    status: status.caption,
    status_code: f.status,
    status_detail: f.message,
    message: f.message,
    time,
    finding_info: { uid: `fleet-audit:${uid}`, title: `${f.control} ${title}`, desc: f.message, created_time: time },
    compliance: {
      control: f.control,
      standards: [STANDARD],
      status_id: compliance.id,
      status: compliance.caption,
      status_code: f.status,
      status_detail: f.message,
    },
    resources: resourcesOf(f, vm, namespace, context.region),
    ...(f.remediation === '' ? {} : { remediation: { desc: f.remediation } }),
    ...(context.region === undefined ? {} : { cloud: { provider: 'AWS', region: context.region } }),
    metadata: {
      version: OCSF_VERSION,
      uid: `${report.runId}:${uid}`,
      event_code: f.control,
      ...(context.region === undefined ? {} : { profiles: ['cloud'] }),
      product: { ...PRODUCT, ...(context.toolVersion === undefined ? {} : { version: context.toolVersion }) },
    },
    unmapped: { run_id: report.runId, subject: f.subject, evidence: f.evidence },
  };
}

/** The finding's subject, and for a proxy or WorkloadEntry also the VM that claims it. */
function resourcesOf(
  f: Finding,
  vm: VmSummary | undefined,
  namespace: string | undefined,
  region: string | undefined,
): Record<string, unknown>[] {
  const where = (ns: string | null | undefined): Record<string, string> => ({
    ...(region === undefined ? {} : { region }),
    ...(ns ? { namespace: ns } : {}),
  });
  const vmResource = (v: VmSummary): Record<string, unknown> => ({
    uid: v.instanceId,
    name: v.hostname ?? v.instanceId,
    // Hybrid nodes (mi-) are SSM managed instances; the rest are EC2 instances.
    type: v.instanceId.startsWith('mi-') ? 'AWS::SSM::ManagedInstance' : 'AWS::EC2::Instance',
    ...where(v.namespace),
  });
  switch (f.subject.kind) {
    case 'vm':
      return [
        vm
          ? vmResource(vm)
          : {
              uid: f.subject.id,
              name: f.subject.id,
              type: f.subject.id.startsWith('mi-') ? 'AWS::SSM::ManagedInstance' : 'AWS::EC2::Instance',
              ...where(undefined),
            },
      ];
    case 'workloadentry':
      return [
        {
          uid: f.subject.id,
          name: f.subject.id.slice(f.subject.id.indexOf('/') + 1),
          type: 'networking.istio.io/WorkloadEntry',
          ...where(namespace),
        },
        ...(vm ? [vmResource(vm)] : []),
      ];
    case 'proxy':
      return [{ uid: f.subject.id, name: f.subject.id, type: 'Istio sidecar proxy', ...where(namespace) }, ...(vm ? [vmResource(vm)] : [])];
    case 'fleet':
      return [{ uid: f.subject.id, name: 'the audited fleet', type: 'Istio VM fleet', ...where(undefined) }];
  }
}
