import { z } from 'zod';
import { BundleSourceSchema } from './evidence-bundle.ts';
import { SubjectKindSchema } from './subject.ts';
import { WaiverReportSchema } from './waiver-schema.ts';

export { SubjectKindSchema, type SubjectKind } from './subject.ts';

/** The report (docs/design.md). report.json is the source of truth; every renderer reads this. */
export const REPORT_SCHEMA_VERSION = 1;

export const SeveritySchema = z.enum(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL']);
export type Severity = z.infer<typeof SeveritySchema>;
/** Severities from the most to the least severe (the SSM Compliance scale). */
export const SEVERITIES: readonly Severity[] = SeveritySchema.options;

export const FindingStatusSchema = z.enum(['PASS', 'FAIL', 'ERROR', 'SKIP', 'WAIVED']);
export type FindingStatus = z.infer<typeof FindingStatusSchema>;

export const VmStatusSchema = z.enum(['COMPLIANT', 'NON_COMPLIANT', 'UNKNOWN']);
export type VmStatus = z.infer<typeof VmStatusSchema>;

export const FindingSchema = z.object({
  control: z.string().regex(/^[A-Z]+-\d{2}$/),
  status: FindingStatusSchema,
  severity: SeveritySchema,
  subject: z.object({ kind: SubjectKindSchema, id: z.string() }),
  message: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  remediation: z.string(),
});
export type Finding = z.infer<typeof FindingSchema>;

export const VmSummarySchema = z.object({
  instanceId: z.string(),
  hostname: z.string().nullable(),
  ip: z.string().nullable(),
  proxyId: z.string().nullable(),
  namespace: z.string().nullable(),
  workloadEntry: z.string().nullable(),
  status: VmStatusSchema,
});
export type VmSummary = z.infer<typeof VmSummarySchema>;

const StatusCountsSchema = z.object({
  PASS: z.number().int(),
  FAIL: z.number().int(),
  ERROR: z.number().int(),
  SKIP: z.number().int(),
  WAIVED: z.number().int(),
});
export type StatusCounts = z.infer<typeof StatusCountsSchema>;

const ReportHead = {
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  runId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  source: BundleSourceSchema,
  summary: z.object({
    vms: z.number().int(),
    compliant: z.number().int(),
    nonCompliant: z.number().int(),
    unknown: z.number().int(),
    byControl: z.record(z.string(), StatusCountsSchema.extend({ severity: SeveritySchema, title: z.string() })),
    /** Findings that FAIL, per severity. */
    bySeverity: z.record(SeveritySchema, z.number().int()),
    /** The Istio versions istiod's replicas and the proxies run, and how many of each (absent when no cluster was read). */
    istioVersions: z.object({ istiod: z.record(z.string(), z.number().int()), proxies: z.record(z.string(), z.number().int()) }).optional(),
  }),
};
/** Every waiver the run was given, with what became of it (active, unused, expired, unknown control). */
const WaiversSchema = z.array(WaiverReportSchema);

/** The report as the analysis makes it and every rendering reads it: each finding whole. */
export const ReportContentSchema = z.object({
  ...ReportHead,
  vms: z.array(VmSummarySchema),
  findings: z.array(FindingSchema),
  waivers: WaiversSchema,
});
export type Report = z.infer<typeof ReportContentSchema>;

/**
 * A PASS as report.json stores it when it has its control's severity and no remediation (nearly every
 * PASS): `[control, subject kind, subject id, index of its message in texts]`, and the index of its
 * evidence excerpt in `excerpts` when it has one. A fleet's PASS findings are most of the file and say
 * the same few things on every VM.
 */
const StoredIndexSchema = z.number().int().nonnegative();
const StoredPassSchema = z.union([
  z.tuple([FindingSchema.shape.control, SubjectKindSchema, z.string(), StoredIndexSchema]),
  z.tuple([FindingSchema.shape.control, SubjectKindSchema, z.string(), StoredIndexSchema, StoredIndexSchema]),
]);
/** Any other finding, whole; its remediation is left out when it is its control's in `remediations`. */
const StoredFindingSchema = FindingSchema.extend({ remediation: z.string().optional() });

/** report.json as stored (docs/design.md, "The report"); ReportSchema reads it into a Report. */
export const StoredReportSchema = z.object({
  ...ReportHead,
  vms: z.array(VmSummarySchema),
  findings: z.array(z.union([StoredFindingSchema, StoredPassSchema])),
  waivers: WaiversSchema,
  /** control → its remediation, the one its findings that leave theirs out have. */
  remediations: z.record(z.string(), z.string()).optional(),
  /** The messages of the PASS findings stored as lists, each once. */
  texts: z.array(z.string()).optional(),
  /** The evidence excerpts of the PASS findings stored as lists, each once. */
  excerpts: z.array(FindingSchema.shape.evidence).optional(),
});
export type StoredReport = z.infer<typeof StoredReportSchema>;

/**
 * Reads report.json (its stored form, or a Report whole: both are valid stored forms) into the Report the
 * analysis made. A PASS that names a message or control the file does not hold makes the file invalid.
 */
export const ReportSchema = StoredReportSchema.transform((stored, ctx): Report => {
  const { vms, findings, waivers, remediations = {}, texts = [], excerpts = [], ...head } = stored;
  const expanded: Finding[] = [];
  for (const [i, f] of findings.entries()) {
    if (!Array.isArray(f)) {
      const { remediation, ...rest } = f;
      expanded.push({ ...rest, remediation: remediation ?? remediations[f.control] ?? '' });
      continue;
    }
    const [control, kind, id, text, excerpt] = f;
    const severity = head.summary.byControl[control]?.severity;
    const message = texts[text];
    const evidence = excerpt === undefined ? {} : excerpts[excerpt];
    const missing =
      severity === undefined
        ? `control ${control} is not in summary.byControl`
        : message === undefined
          ? `texts holds no message ${text}`
          : evidence === undefined
            ? `excerpts holds no excerpt ${excerpt}`
            : undefined;
    if (missing !== undefined || severity === undefined || message === undefined || evidence === undefined) {
      ctx.addIssue({ code: 'custom', path: ['findings', i], message: missing ?? '' });
      return z.NEVER;
    }
    expanded.push({ control, status: 'PASS', severity, subject: { kind, id }, message, evidence, remediation: '' });
  }
  return { ...head, vms, findings: expanded, waivers };
});

/** The JSON Schema of report.json as stored, committed in schema/report.schema.json, generated from StoredReportSchema. */
export function reportJsonSchemaText(): string {
  const schema = z.toJSONSchema(StoredReportSchema, { target: 'draft-2020-12' });
  return `${JSON.stringify({ title: 'Istio VM fleet audit report', ...schema }, null, 2)}\n`;
}

/** True when a finding fails at or above the given severity (for `--fail-on`). */
export function isFailingAtOrAbove(finding: Finding, threshold: Severity): boolean {
  return finding.status === 'FAIL' && SEVERITIES.indexOf(finding.severity) <= SEVERITIES.indexOf(threshold);
}
