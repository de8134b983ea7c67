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

export const ReportSchema = z.object({
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
  vms: z.array(VmSummarySchema),
  findings: z.array(FindingSchema),
  /** Every waiver the run was given, with what became of it (active, unused, expired, unknown control). */
  waivers: z.array(WaiverReportSchema),
});
export type Report = z.infer<typeof ReportSchema>;

/** The JSON Schema of report.json as committed in schema/report.schema.json, generated from ReportSchema. */
export function reportJsonSchemaText(): string {
  const schema = z.toJSONSchema(ReportSchema, { target: 'draft-2020-12' });
  return `${JSON.stringify({ title: 'Istio VM fleet audit report', ...schema }, null, 2)}\n`;
}

/** True when a finding fails at or above the given severity (for `--fail-on`). */
export function isFailingAtOrAbove(finding: Finding, threshold: Severity): boolean {
  return finding.status === 'FAIL' && SEVERITIES.indexOf(finding.severity) <= SEVERITIES.indexOf(threshold);
}
