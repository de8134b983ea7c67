import type { Finding, FindingStatus } from './report.ts';
import { appendTo } from './multimap.ts';

/**
 * How large findings may be in a report. A fleet's report keeps every finding, but its size must grow with
 * the fleet, not with what one VM printed: a PASS carries a short excerpt of its evidence (the decision
 * needs no more), a non-PASS keeps its evidence whole up to bounds no honest VM reaches, and one subject
 * gets a bounded number of findings from one control.
 */

/** The most characters a PASS finding's evidence takes as JSON. */
export const PASS_EVIDENCE_CHARS = 64;
/** A non-PASS finding's evidence: items of a list, characters of a string, levels of nesting. */
export const EVIDENCE_LIST_ITEMS = 50;
export const EVIDENCE_STRING_CHARS = 4096;
export const EVIDENCE_DEPTH = 6;
/** The most findings one control gives one subject; the rest are folded into the last, with their count. */
export const FINDINGS_PER_SUBJECT = 20;

/** The finding as the report stores it. A PASS needs no remediation: the catalogue holds it (`fleet-audit controls`). */
export function compactFinding(finding: Finding): Finding {
  if (compacted.has(finding)) return finding;
  const compact =
    finding.status === 'PASS'
      ? { ...finding, evidence: passExcerpt(finding.evidence), remediation: '' }
      : { ...finding, evidence: bounded(finding.evidence, 0) as Record<string, unknown> };
  compacted.add(compact);
  return compact;
}

// The findings compactFinding made: compact already, so compacting one again (a PASS cut as its control
// is evaluated, then the whole list) leaves it as it is.
const compacted = new WeakSet<Finding>();

/**
 * A PASS compacted at once, anything else as it is. Waivers only ever turn a FAIL into WAIVED, so a PASS
 * can be cut as its control is evaluated: a fleet's analysis never holds every PASS's evidence whole.
 */
export function compactPass(finding: Finding): Finding {
  return finding.status === 'PASS' ? compactFinding(finding) : finding;
}

/**
 * The findings as the report stores them (compactFinding), with what they repeat held once: the subject
 * of every finding about one VM, and the message and evidence excerpt PASS findings share across VMs (a
 * fleet's VMs mostly pass with the same words). The report holds every finding of the fleet until its
 * files are written, and nothing changes a finding once made, so equal parts may be one object.
 */
export function compactFindings(findings: readonly Finding[]): Finding[] {
  const subjects = new Map<string, Finding['subject']>();
  const messages = new Map<string, string>();
  const excerpts = new Map<string, Record<string, unknown>>();
  return findings.map((finding) => {
    const compact = compactFinding(finding);
    const subjectKey = `${compact.subject.kind}\u0000${compact.subject.id}`;
    compact.subject = held(subjects, subjectKey, compact.subject);
    if (compact.status !== 'PASS') return compact;
    compact.message = held(messages, compact.message, compact.message);
    compact.evidence = held(excerpts, JSON.stringify(compact.evidence), compact.evidence);
    return compact;
  });
}

function held<T>(map: Map<string, T>, key: string, value: T): T {
  const known = map.get(key);
  if (known !== undefined) return known;
  map.set(key, value);
  return value;
}

/**
 * The evidence entries that fit in PASS_EVIDENCE_CHARS of JSON, in order; an entry that does not fit is cut
 * to an excerpt of its JSON when there is room for one, and `"…"` counts the entries left out. The
 * excerpt, that count included, takes about PASS_EVIDENCE_CHARS (more only when its strings need escapes).
 */
function passExcerpt(evidence: Record<string, unknown>): Record<string, unknown> {
  const whole = JSON.stringify(evidence);
  if (whole.length <= PASS_EVIDENCE_CHARS) return evidence;
  const kept: Record<string, unknown> = {};
  let left = 0;
  // Room is kept for `,"…":NN` from the start: something is always left out of an evidence that does not fit.
  let used = 2 + LEFT_OUT_MARK_CHARS;
  for (const [key, value] of Object.entries(evidence)) {
    const text = JSON.stringify(value) ?? 'null';
    const room = PASS_EVIDENCE_CHARS - used - key.length - 4;
    if (text.length <= room) {
      kept[key] = value;
      used += key.length + text.length + 4;
    } else if (room >= MIN_CUT_CHARS) {
      // A string is cut as itself; anything else as an excerpt of its JSON.
      const cut = `${(typeof value === 'string' ? value : text).slice(0, room - 3)}…`;
      kept[key] = cut;
      used += key.length + JSON.stringify(cut).length + 4;
    } else left++;
  }
  if (left > 0) kept['…'] = left;
  return kept;
}

/** `,"…":NN`: the count of entries left out. */
const LEFT_OUT_MARK_CHARS = 8;
/** An entry is cut only when the room left shows something of it. */
const MIN_CUT_CHARS = 12;

/** A value with long lists, long strings and deep nesting cut, each cut saying how much was left out. */
function bounded(value: unknown, depth: number): unknown {
  if (typeof value === 'string')
    return value.length <= EVIDENCE_STRING_CHARS
      ? value
      : `${value.slice(0, EVIDENCE_STRING_CHARS)}… (${value.length - EVIDENCE_STRING_CHARS} more characters)`;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= EVIDENCE_DEPTH) return '… (nested too deep to show)';
  if (Array.isArray(value)) {
    const items = value.slice(0, EVIDENCE_LIST_ITEMS).map((item) => bounded(item, depth + 1));
    return value.length > EVIDENCE_LIST_ITEMS ? [...items, `… and ${value.length - EVIDENCE_LIST_ITEMS} more`] : items;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [key, item] of Object.entries(value)) {
    if (n++ === EVIDENCE_LIST_ITEMS) {
      out['…'] = `${Object.keys(value).length - EVIDENCE_LIST_ITEMS} more entries`;
      break;
    }
    out[key] = bounded(item, depth + 1);
  }
  return out;
}

const STATUS_RANK: Record<FindingStatus, number> = { FAIL: 4, ERROR: 3, WAIVED: 2, SKIP: 1, PASS: 0 };

/**
 * At most FINDINGS_PER_SUBJECT findings of one control about one subject (a control evaluates one control
 * at a time, so `findings` all share it). The ones beyond are folded into one finding that counts them and
 * takes the worst status among them, so a cut never hides a failure.
 */
export function boundFindings(findings: Finding[]): Finding[] {
  const perSubject = new Map<string, number>();
  const folded = new Map<string, Finding[]>();
  const out: Finding[] = [];
  for (const f of findings) {
    const key = `${f.subject.kind}\u0000${f.subject.id}`;
    const seen = (perSubject.get(key) ?? 0) + 1;
    perSubject.set(key, seen);
    if (seen < FINDINGS_PER_SUBJECT) out.push(f);
    else appendTo(folded, key, f);
  }
  for (const rest of folded.values()) {
    if (rest.length === 1) {
      out.push(rest[0]!);
      continue;
    }
    const worst = rest.reduce((a, b) => (STATUS_RANK[b.status] > STATUS_RANK[a.status] ? b : a));
    out.push({
      ...worst,
      message: `${worst.message} (and ${rest.length - 1} more findings of this control about this subject, not listed)`,
    });
  }
  return out;
}
