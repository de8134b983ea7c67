import type { z } from 'zod';
import type { Finding } from './report.ts';
import type { SubjectKind } from './subject.ts';
import {
  MAX_WAIVER_DAYS,
  WaiverSchema,
  WaiversFileSchema,
  type Waiver,
  type WaiverReport,
  type WaiverState,
  type WaiverSubject,
} from './waiver-schema.ts';
import { BadInputError } from '../shared/errors.ts';
import { issueText } from '../shared/zod-issues.ts';

// The types applying waivers takes and gives; their schemas live in waiver-schema.ts.
export type { Waiver, WaiverReport } from './waiver-schema.ts';

/** A waivers document that cannot be used; the message names the entry and the problem. */
export class WaiversError extends BadInputError {
  override name = 'WaiversError';
}

/**
 * Validates a parsed waivers document (`{"waivers": [...]}`, from JSON or YAML), entry by entry, so the
 * message names the entry at fault. `now` is when the file is read: an expiry more than a year later is
 * refused, so no waiver is forever.
 */
export function parseWaivers(raw: unknown, now: Date): Waiver[] {
  const file = WaiversFileSchema.safeParse(raw);
  if (!file.success) throw new WaiversError(describeIssue(file.error.issues[0]));
  return file.data.waivers.map((entry, index) => {
    const parsed = WaiverSchema.safeParse(entry);
    const name = `waivers[${index}]${isControlOf(entry) ? ` (${entry.control})` : ''}`;
    if (!parsed.success) throw new WaiversError(`${name}: ${describeIssue(parsed.error.issues[0])}`);
    const days = (Date.parse(parsed.data.expires) - now.getTime()) / 86_400_000;
    if (days > MAX_WAIVER_DAYS)
      throw new WaiversError(`${name}: expires: ${parsed.data.expires} is more than a year away; a waiver must be renewed at least yearly`);
    return parsed.data;
  });
}

/** What applying waivers gave: the findings (covered FAILs now WAIVED) and each waiver's state. */
export interface WaiversOutcome {
  findings: Finding[];
  waivers: WaiverReport[];
}

/**
 * Marks the FAIL findings a valid waiver covers as WAIVED, keeping the waiver in their evidence, and says
 * of each waiver whether it was used, expired (judged at `now`, the evidence's time) or names a control
 * that does not exist. The first waiver (in file order) that covers a finding is the one it carries.
 */
export function applyWaivers(
  findings: readonly Finding[],
  waivers: readonly Waiver[],
  now: Date,
  knownControls: ReadonlySet<string>,
  namespaceOf: (subject: Finding['subject']) => string | undefined,
): WaiversOutcome {
  const usable = waivers.map((w) => knownControls.has(w.control) && Date.parse(w.expires) > now.getTime());
  const matchers = waivers.map((w) => subjectMatcher(w.subject));
  const byControl = new Map<string, number[]>();
  waivers.forEach((w, i) => {
    if (!usable[i]) return;
    const list = byControl.get(w.control) ?? [];
    list.push(i);
    byControl.set(w.control, list);
  });
  const counts = waivers.map(() => 0);
  const out = findings.map((finding) => {
    if (finding.status !== 'FAIL') return finding;
    const index = byControl.get(finding.control)?.find((i) => matchers[i]!(finding.subject, namespaceOf));
    if (index === undefined) return finding;
    counts[index]!++;
    const w = waivers[index]!;
    return {
      ...finding,
      status: 'WAIVED' as const,
      evidence: { ...finding.evidence, waiver: { justification: w.justification, owner: w.owner, expires: w.expires } },
    };
  });
  return {
    findings: out,
    waivers: waivers.map((w, i) => ({ ...w, state: stateOf(w, i), waived: counts[i]! })),
  };

  function stateOf(w: Waiver, i: number): WaiverState {
    if (!knownControls.has(w.control)) return 'unknown-control';
    if (!usable[i]) return 'expired';
    return counts[i]! > 0 ? 'active' : 'unused';
  }
}

/** The namespace a subject lives in, from its id alone: `ns/name` entries, `name.ns` proxies. VMs need the join. */
export function namespaceOfSubjectId(kind: SubjectKind, id: string): string | undefined {
  if (kind === 'workloadentry') return id.includes('/') ? id.slice(0, id.indexOf('/')) : undefined;
  if (kind === 'proxy') return id.includes('.') ? id.slice(id.lastIndexOf('.') + 1) : undefined;
  return undefined;
}

type SubjectMatcher = (subject: Finding['subject'], namespaceOf: (subject: Finding['subject']) => string | undefined) => boolean;

function subjectMatcher(selector: WaiverSubject | undefined): SubjectMatcher {
  if (!selector) return () => true;
  const id = selector.id === undefined ? undefined : globToRegExp(selector.id);
  return (subject, namespaceOf) =>
    (selector.kind === undefined || selector.kind === subject.kind) &&
    (id === undefined || id.test(subject.id)) &&
    (selector.namespace === undefined || namespaceOf(subject) === selector.namespace);
}

/** A glob as an anchored regular expression: `*` any run of characters, `?` one; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}

/** A one-line summary of a waiver's subject, for tables. */
export function describeWaiverSubject(subject: WaiverSubject | undefined): string {
  if (!subject || (subject.kind === undefined && subject.id === undefined && subject.namespace === undefined)) return 'every subject';
  const parts = [subject.kind ?? 'any', subject.id ?? '*'];
  return `${parts.join(' ')}${subject.namespace === undefined ? '' : ` in ${subject.namespace}`}`;
}

function isControlOf(entry: unknown): entry is { control: string } {
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof (entry as { control?: unknown }).control === 'string' &&
    /^[A-Z]+-\d{2}$/.test((entry as { control: string }).control)
  );
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  return issue ? issueText(issue) : 'invalid';
}
