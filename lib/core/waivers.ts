import { z } from 'zod';
import type { Finding } from './report.ts';

/**
 * A waiver accepts a known FAIL for a while: the finding is reported WAIVED (still listed, with the waiver)
 * and no longer makes its VM non-compliant. Every waiver expires; an expired one no longer applies.
 */
export const WaiverSchema = z.strictObject({
  control: z.string().regex(/^[A-Z]+-\d{2}$/, { error: 'expected a control id such as XDS-05' }),
  /** Which subjects: an exact id, or an id ending in `*` for a prefix; all subjects when absent. */
  subject: z
    .strictObject({
      kind: z.enum(['vm', 'workloadentry', 'proxy', 'fleet']).optional(),
      id: z.string().min(1).max(256).optional(),
    })
    .optional(),
  reason: z.string().min(1, { error: 'a waiver must say why' }).max(1000),
  expires: z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time such as 2027-01-31T00:00:00Z' }),
  approvedBy: z.string().max(200).optional(),
});
export type Waiver = z.infer<typeof WaiverSchema>;

export const WaiversFileSchema = z.strictObject({ waivers: z.array(WaiverSchema).max(10_000) });
export type WaiversFile = z.infer<typeof WaiversFileSchema>;

/** Marks the FAIL findings a valid waiver covers as WAIVED, keeping the waiver in their evidence. */
export function applyWaivers(findings: Finding[], waivers: readonly Waiver[], now: Date): Finding[] {
  const valid = waivers.filter((w) => Date.parse(w.expires) > now.getTime());
  if (valid.length === 0) return findings;
  return findings.map((finding) => {
    if (finding.status !== 'FAIL') return finding;
    const waiver = valid.find((w) => covers(w, finding));
    if (!waiver) return finding;
    return {
      ...finding,
      status: 'WAIVED',
      evidence: { ...finding.evidence, waiver: { reason: waiver.reason, expires: waiver.expires, ...(waiver.approvedBy ? { approvedBy: waiver.approvedBy } : {}) } },
    };
  });
}

function covers(waiver: Waiver, finding: Finding): boolean {
  if (waiver.control !== finding.control) return false;
  const subject = waiver.subject;
  if (!subject) return true;
  if (subject.kind && subject.kind !== finding.subject.kind) return false;
  if (!subject.id) return true;
  return subject.id.endsWith('*') ? finding.subject.id.startsWith(subject.id.slice(0, -1)) : finding.subject.id === subject.id;
}
