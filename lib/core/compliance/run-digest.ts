import { z } from 'zod';
import { FindingStatusSchema, SeveritySchema, SubjectKindSchema, type Report } from '../report.ts';

/**
 * What compliance over time needs of one run, kept beside its report when the run is finalized
 * (`digest.json`), so that a year of daily runs is answered without reading whole reports. Subjects are
 * written once and findings point at them by index: a 1,000-VM run digests to about 150 KB.
 */
export const DIGEST_VERSION = 1;

export const DIGEST_FILE = 'digest.json';

export const DigestWaiverSchema = z.object({
  control: z.string(),
  subject: z.string(),
  justification: z.string(),
  expires: z.string(),
  owner: z.string(),
  state: z.string(),
});
export type DigestWaiver = z.infer<typeof DigestWaiverSchema>;

/** One finding: [control index, subject index, status, severity]. */
const DigestFindingSchema = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), FindingStatusSchema, SeveritySchema]);

export const RunDigestSchema = z.object({
  digestVersion: z.literal(DIGEST_VERSION),
  runId: z.string().min(1),
  finishedAt: z.iso.datetime({ offset: true }),
  vms: z.number().int().nonnegative(),
  compliant: z.number().int().nonnegative(),
  nonCompliant: z.number().int().nonnegative(),
  unknown: z.number().int().nonnegative(),
  controls: z.array(z.object({ id: z.string(), severity: SeveritySchema, title: z.string() })),
  /** `<kind> <id>`, each subject once. */
  subjects: z.array(z.string()),
  findings: z.array(DigestFindingSchema),
  waivers: z.array(DigestWaiverSchema),
});
export type RunDigest = z.infer<typeof RunDigestSchema>;

/** A subject as the digest writes it; ids never hold a space, kinds never do. */
export function subjectKey(kind: string, id: string): string {
  return `${kind} ${id}`;
}

/** Splits a digest's subject back into its kind and id. */
export function parseSubjectKey(key: string): { kind: z.infer<typeof SubjectKindSchema>; id: string } {
  const space = key.indexOf(' ');
  const kind = SubjectKindSchema.safeParse(key.slice(0, space));
  return { kind: kind.success ? kind.data : 'fleet', id: key.slice(space + 1) };
}

/** The waivers a report lists, when it lists them (reports may predate the list). */
export interface ReportWaiverLike {
  control: string;
  subject?: unknown;
  justification: string;
  expires: string;
  owner: string;
  state: string;
}

/** Digests a report: its counts, its controls, and each finding reduced to control, subject, status, severity. */
export function digestReport(report: Report & { waivers?: readonly ReportWaiverLike[] }): RunDigest {
  const controls = Object.entries(report.summary.byControl).map(([id, c]) => ({ id, severity: c.severity, title: c.title }));
  const controlIndex = new Map(controls.map((c, i) => [c.id, i]));
  const subjects: string[] = [];
  const subjectIndex = new Map<string, number>();
  const findings: RunDigest['findings'] = [];
  for (const finding of report.findings) {
    let control = controlIndex.get(finding.control);
    if (control === undefined) {
      control = controls.push({ id: finding.control, severity: finding.severity, title: finding.control }) - 1;
      controlIndex.set(finding.control, control);
    }
    const key = subjectKey(finding.subject.kind, finding.subject.id);
    let subject = subjectIndex.get(key);
    if (subject === undefined) {
      subject = subjects.push(key) - 1;
      subjectIndex.set(key, subject);
    }
    findings.push([control, subject, finding.status, finding.severity]);
  }
  return {
    digestVersion: DIGEST_VERSION,
    runId: report.runId,
    finishedAt: report.finishedAt,
    vms: report.summary.vms,
    compliant: report.summary.compliant,
    nonCompliant: report.summary.nonCompliant,
    unknown: report.summary.unknown,
    controls,
    subjects,
    findings,
    waivers: (report.waivers ?? []).map((w) => ({
      control: w.control,
      subject: describeWaiverSubject(w.subject),
      justification: w.justification,
      expires: w.expires,
      owner: w.owner,
      state: w.state,
    })),
  };
}

function describeWaiverSubject(subject: unknown): string {
  if (typeof subject === 'string') return subject;
  if (subject === undefined || subject === null) return '*';
  return JSON.stringify(subject);
}
