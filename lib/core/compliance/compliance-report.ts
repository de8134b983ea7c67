import { z } from 'zod';
import { FindingStatusSchema, SeveritySchema, SubjectKindSchema, type FindingStatus, type Severity } from '../report.ts';
import { parseSubjectKey, type RunDigest } from './run-digest.ts';

/**
 * Compliance over a period, computed from the digests of the stored runs (docs/design.md, "Compliance over
 * time", states every rule). The result depends only on the runs: "now" is the newest run's finish time.
 */
export const COMPLIANCE_SCHEMA_VERSION = 1;

const SubjectSchema = z.object({ kind: SubjectKindSchema, id: z.string() });
const TrendSchema = z.enum(['improving', 'worsening', 'steady']);
export type Trend = z.infer<typeof TrendSchema>;

export const ComplianceReportSchema = z.object({
  schemaVersion: z.literal(COMPLIANCE_SCHEMA_VERSION),
  from: z.string().nullable(),
  to: z.string().nullable(),
  runs: z.array(
    z.object({
      runId: z.string(),
      finishedAt: z.string(),
      vms: z.number(),
      compliant: z.number(),
      nonCompliant: z.number(),
      unknown: z.number(),
    }),
  ),
  controls: z.array(
    z.object({
      control: z.string(),
      severity: SeveritySchema,
      title: z.string(),
      days: z.array(
        z.object({
          date: z.string(),
          runs: z.number().int(),
          pass: z.number().int(),
          fail: z.number().int(),
          error: z.number().int(),
          waived: z.number().int(),
          compliantShare: z.number().nullable(),
        }),
      ),
      trend: TrendSchema,
    }),
  ),
  openFindings: z.array(
    z.object({
      control: z.string(),
      subject: SubjectSchema,
      severity: SeveritySchema,
      firstSeen: z.string(),
      lastSeen: z.string(),
      ageDays: z.number(),
      status: FindingStatusSchema,
    }),
  ),
  fixedFindings: z.array(
    z.object({ control: z.string(), subject: SubjectSchema, firstSeen: z.string(), fixedAt: z.string(), hoursToFix: z.number() }),
  ),
  meanHoursToFix: z.number().nullable(),
  waivers: z.array(
    z.object({
      control: z.string(),
      subject: z.string(),
      justification: z.string(),
      expires: z.string(),
      owner: z.string(),
      state: z.string(),
    }),
  ),
});
export type ComplianceReport = z.infer<typeof ComplianceReportSchema>;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** A change of the compliant share smaller than this is no trend. */
const TREND_EPSILON = 0.01;

/** A period such as `30d`, `12h` or `2w`, in milliseconds; undefined for anything else. */
export function parsePeriod(text: string): number | undefined {
  const m = /^(?<count>\d{1,5})(?<unit>[hdw])$/.exec(text.trim());
  if (!m?.groups) return undefined;
  const count = Number(m.groups.count);
  const unit = m.groups.unit === 'h' ? HOUR_MS : m.groups.unit === 'd' ? DAY_MS : 7 * DAY_MS;
  return count > 0 ? count * unit : undefined;
}

/** Where one fingerprint stands after the runs read so far. */
interface Track {
  control: string;
  subject: string;
  severity: Severity;
  lastStatus: FindingStatus;
  lastRun: number;
  /** The run that began the current FAIL/ERROR streak, when the fingerprint is in one. */
  streakStart: number | undefined;
  /** The last run of the current streak. */
  streakLast: number | undefined;
  /** The last fix: the start of the streak it ended and the PASS run that ended it. */
  fix: { start: number; at: number } | undefined;
}

/**
 * Computes compliance over `periodMs` ending at the newest run. `digests` may come in any order; runs
 * outside the period are left out. Linear in the findings of the runs read.
 */
export function computeCompliance(digests: readonly RunDigest[], periodMs: number): ComplianceReport {
  const ordered = [...digests].sort(compareRuns);
  const newest = ordered.at(-1);
  if (!newest) return emptyCompliance();
  const builder = new ComplianceBuilder(Date.parse(newest.finishedAt), periodMs);
  for (const digest of ordered) if (builder.covers(digest.finishedAt)) builder.add(digest);
  return builder.finish();
}

/** Orders runs by finish time (then run id), the order a ComplianceBuilder takes them in. */
export function compareRuns(a: { finishedAt: string; runId: string }, b: { finishedAt: string; runId: string }): number {
  return compareText(a.finishedAt, b.finishedAt) || compareText(a.runId, b.runId);
}

/** Compliance with no run at all. */
export function emptyCompliance(): ComplianceReport {
  return {
    schemaVersion: COMPLIANCE_SCHEMA_VERSION,
    from: null,
    to: null,
    runs: [],
    controls: [],
    openFindings: [],
    fixedFindings: [],
    meanHoursToFix: null,
    waivers: [],
  };
}

/**
 * Builds compliance from the runs of a period one digest at a time, oldest first, so that only the
 * fingerprints' state is held (not every run's findings): a year of daily 1,000-VM runs stays small.
 */
export class ComplianceBuilder {
  readonly #toMs: number;
  readonly #fromMs: number;
  readonly #times: string[] = [];
  readonly #runs: ComplianceReport['runs'] = [];
  readonly #tracks = new Map<string, Track>();
  readonly #controlInfo = new Map<string, { severity: Severity; title: string }>();
  // Per control, per UTC date: how many runs, and the counts of that date's last run.
  readonly #days = new Map<string, Map<string, { runs: number; counts: Counts }>>();
  #waivers: ComplianceReport['waivers'] = [];

  /** `toMs` is the newest run's finish time: the period is [toMs − periodMs, toMs]. */
  constructor(toMs: number, periodMs: number) {
    this.#toMs = toMs;
    this.#fromMs = toMs - periodMs;
  }

  /** Whether a run finished at `finishedAt` belongs to the period. */
  covers(finishedAt: string): boolean {
    const t = Date.parse(finishedAt);
    return t >= this.#fromMs && t <= this.#toMs;
  }

  /** Adds the next run of the period; runs must come oldest first (see compareRuns). */
  add(run: RunDigest): void {
    const runIndex = this.#times.push(run.finishedAt) - 1;
    this.#runs.push({
      runId: run.runId,
      finishedAt: run.finishedAt,
      vms: run.vms,
      compliant: run.compliant,
      nonCompliant: run.nonCompliant,
      unknown: run.unknown,
    });
    for (const c of run.controls) this.#controlInfo.set(c.id, { severity: c.severity, title: c.title });
    const date = run.finishedAt.slice(0, 10);
    const countsOfRun = new Map<string, Counts>(run.controls.map((c) => [c.id, emptyCounts()]));
    for (const [controlIndex, subjectIndex, status, severity] of run.findings) {
      const control = run.controls[controlIndex]?.id;
      const subject = run.subjects[subjectIndex];
      if (control === undefined || subject === undefined) continue;
      let counts = countsOfRun.get(control);
      if (!counts) countsOfRun.set(control, (counts = emptyCounts()));
      count(counts, status);
      observe(this.#tracks, control, subject, status, severity, runIndex);
    }
    for (const [control, counts] of countsOfRun) {
      let byDate = this.#days.get(control);
      if (!byDate) this.#days.set(control, (byDate = new Map()));
      const day = byDate.get(date);
      byDate.set(date, { runs: (day?.runs ?? 0) + 1, counts });
    }
    this.#waivers = run.waivers.map((w) => ({ ...w }));
  }

  finish(): ComplianceReport {
    const times = this.#times;
    if (times.length === 0) return emptyCompliance();
    const lastRun = times.length - 1;
    const openFindings: ComplianceReport['openFindings'] = [];
    const fixedFindings: ComplianceReport['fixedFindings'] = [];
    for (const track of this.#tracks.values()) {
      // A fingerprint the newest run no longer reports is retired.
      if (track.lastRun !== lastRun) continue;
      const subject = parseSubjectKey(track.subject);
      if ((track.lastStatus === 'FAIL' || track.lastStatus === 'ERROR') && track.streakStart !== undefined) {
        const firstSeen = times[track.streakStart]!;
        openFindings.push({
          control: track.control,
          subject,
          severity: track.severity,
          firstSeen,
          lastSeen: times[track.streakLast ?? track.streakStart]!,
          ageDays: (this.#toMs - Date.parse(firstSeen)) / DAY_MS,
          status: track.lastStatus,
        });
      } else if (track.lastStatus === 'PASS' && track.fix) {
        const firstSeen = times[track.fix.start]!;
        const fixedAt = times[track.fix.at]!;
        fixedFindings.push({
          control: track.control,
          subject,
          firstSeen,
          fixedAt,
          hoursToFix: (Date.parse(fixedAt) - Date.parse(firstSeen)) / HOUR_MS,
        });
      }
    }
    openFindings.sort(
      (a, b) => compareText(a.firstSeen, b.firstSeen) || compareText(a.control, b.control) || compareText(a.subject.id, b.subject.id),
    );
    fixedFindings.sort(
      (a, b) => compareText(a.fixedAt, b.fixedAt) || compareText(a.control, b.control) || compareText(a.subject.id, b.subject.id),
    );

    const controls: ComplianceReport['controls'] = [...this.#controlInfo].map(([control, info]) => {
      const rows = [...(this.#days.get(control) ?? new Map<string, { runs: number; counts: Counts }>())]
        .sort(([a], [b]) => compareText(a, b))
        .map(([date, { runs, counts }]) => ({ date, runs, ...counts, compliantShare: share(counts) }));
      return { control, severity: info.severity, title: info.title, days: rows, trend: trendOf(rows.map((r) => r.compliantShare)) };
    });

    return {
      schemaVersion: COMPLIANCE_SCHEMA_VERSION,
      from: new Date(this.#fromMs).toISOString(),
      to: times[lastRun]!,
      runs: this.#runs,
      controls,
      openFindings,
      fixedFindings,
      meanHoursToFix: fixedFindings.length === 0 ? null : fixedFindings.reduce((sum, f) => sum + f.hoursToFix, 0) / fixedFindings.length,
      waivers: this.#waivers,
    };
  }
}

interface Counts {
  pass: number;
  fail: number;
  error: number;
  waived: number;
}

function emptyCounts(): Counts {
  return { pass: 0, fail: 0, error: 0, waived: 0 };
}

function count(counts: Counts, status: FindingStatus): void {
  if (status === 'PASS') counts.pass++;
  else if (status === 'FAIL') counts.fail++;
  else if (status === 'ERROR') counts.error++;
  else if (status === 'WAIVED') counts.waived++;
}

function share(c: Counts): number | null {
  const total = c.pass + c.fail + c.error + c.waived;
  return total === 0 ? null : (c.pass + c.waived) / total;
}

function trendOf(shares: Array<number | null>): Trend {
  const first = shares[0];
  const last = shares.at(-1);
  if (shares.length < 2 || first === null || first === undefined || last === null || last === undefined) return 'steady';
  const change = last - first;
  return change > TREND_EPSILON ? 'improving' : change < -TREND_EPSILON ? 'worsening' : 'steady';
}

/** Folds one report of a fingerprint into its track: streaks of FAIL/ERROR, and the PASS that ends one. */
function observe(
  tracks: Map<string, Track>,
  control: string,
  subject: string,
  status: FindingStatus,
  severity: Severity,
  run: number,
): void {
  const key = `${control} ${subject}`;
  let track = tracks.get(key);
  if (!track) {
    track = { control, subject, severity, lastStatus: status, lastRun: run, streakStart: undefined, streakLast: undefined, fix: undefined };
    tracks.set(key, track);
  }
  const failing = status === 'FAIL' || status === 'ERROR';
  if (failing) {
    if (track.streakStart === undefined) track.streakStart = run;
    track.streakLast = run;
  } else {
    if (status === 'PASS' && track.streakStart !== undefined) track.fix = { start: track.streakStart, at: run };
    track.streakStart = undefined;
    track.streakLast = undefined;
  }
  track.lastStatus = status;
  track.lastRun = run;
  track.severity = severity;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
