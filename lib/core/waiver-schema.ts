import { z } from 'zod';
import { SubjectKindSchema } from './subject.ts';

// The shapes of a waiver and of its line in the report, kept apart from applying waivers (waivers.ts): the
// report's schema needs these, and applying them needs the report's findings.

/**
 * A waiver accepts a known FAIL for a while: the finding is reported WAIVED (still listed, with the
 * waiver's justification, owner and expiry) and no longer makes its subject non-compliant. Every waiver
 * expires, at most a year after the file is read; an expired one no longer applies.
 */
export const MAX_WAIVER_DAYS = 366;

const GLOB = /^[^\s]{1,256}$/;

export const WaiverSubjectSchema = z.strictObject({
  kind: SubjectKindSchema.optional(),
  /** The subject's id, exactly, or a glob (`*` any run of characters, `?` one). */
  id: z.string().regex(GLOB, { error: 'expected an id or a glob without spaces' }).optional(),
  /** The namespace of the subject: a VM's ISTIO_NAMESPACE, an entry's or a proxy's namespace. */
  namespace: z.string().min(1).max(253).optional(),
});
export type WaiverSubject = z.infer<typeof WaiverSubjectSchema>;

export const WaiverSchema = z.strictObject({
  control: z.string().regex(/^[A-Z]+-\d{2}$/, { error: 'expected a control id such as XDS-05' }),
  /** Which subjects the waiver covers; every subject of the control when absent. */
  subject: WaiverSubjectSchema.optional(),
  justification: z.string().trim().min(1, { error: 'a waiver must say why' }).max(2000),
  owner: z.string().trim().min(1, { error: 'a waiver must name its owner' }).max(200),
  expires: z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time such as 2027-01-31T00:00:00Z' }),
});
export type Waiver = z.infer<typeof WaiverSchema>;

export const WaiversFileSchema = z.strictObject({ waivers: z.array(z.unknown()).max(10_000) });

export const WAIVER_STATES = ['active', 'unused', 'expired', 'unknown-control'] as const;
export type WaiverState = (typeof WAIVER_STATES)[number];

/** A waiver as the report lists it: what it says, and what became of it in this run. */
export const WaiverReportSchema = WaiverSchema.extend({
  state: z.enum(WAIVER_STATES),
  /** How many FAIL findings it turned into WAIVED. */
  waived: z.number().int().nonnegative(),
});
export type WaiverReport = z.infer<typeof WaiverReportSchema>;
