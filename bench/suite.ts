/**
 * `npm run bench`: the project's benchmark suite, on simulated fleets. A benchmark, not a test: it asserts
 * nothing, it prints a table next to the targets and writes every figure to bench-results.json.
 *
 * 1. Analysis of stored bundles (1,000 and 10,000 VMs by default): each bundle is written with the local
 *    store writer, then analyzed through analyzeStoredBundle with the local reader and report writer
 *    (what `fleet-audit analyze` does), in a child process of its own, next to the floor: a child that
 *    only reads and JSON.parse's the same files.
 * 2. End to end `run --source sim-aws` with an emulated latency on every call, against one SendCommand and
 *    GetCommandInvocation polling per instance (bench/ssm.ts, in a child process).
 * 3. One finalization of a 10,000-VM run whose invocation records are all collected, over the S3 store and
 *    the Kubernetes API, in a child process, against the finalizing function's time and memory limits.
 * 4. report.html of the same sizes as 1, rendered and opened in headless Chromium (bench/report-html.ts,
 *    in a child process): its size and the time it takes to open.
 *
 * Environment: BENCH_SIZES (e.g. `1000,10000`), BENCH_PARTS (`analysis,end-to-end,finalize,report-html`),
 * BENCH_E2E_VMS, BENCH_FINALIZE_VMS, BENCH_LATENCY_MS, BENCH_RESULTS (default bench-results.json).
 * bench/README.md says how to read the figures.
 */
import { mkdtemp, readdir, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBenchScript, runMeasured } from './child-measure.ts';
import { startFinalizeFixture } from './finalize-fixture.ts';
import { functionLimits, type FunctionLimits } from './function-limits.ts';
import { formatHtmlReportBench, type HtmlReportBenchResult } from './report-html-format.ts';
import { benchFleet, storeSimBundle } from './sim-bundle.ts';
import { formatSsmBench, type SsmBenchResult } from './ssm.ts';
import type { SimFleet } from '../sim/fleet.ts';

const PARTS = ['analysis', 'end-to-end', 'finalize', 'report-html'] as const;
type Part = (typeof PARTS)[number];

/** What the analysis is held to, at the largest size measured (10,000 VMs by default). */
const ANALYSIS_TARGETS = { floorRatioMax: 3, rssMiBMax: 512, perVmRatioMax: 1.3 } as const;
/** The function that finalizes a run when SSM says its command ended. */
const FINALIZING_FUNCTION = 'ssmCommandStatus';
// Sizes up to this are measured three times (median), larger ones once: they take minutes.
const REPEATED_UP_TO = 2000;

interface SizeResult {
  vms: number;
  bundleBytes: number;
  rounds: number;
  analysis: {
    ms: number;
    rssMiB: number;
    floorMs: number;
    floorRssMiB: number;
    /** Analysis time / floor time, both measured in this run. */
    floorRatio: number;
    perVmMs: number;
    /** Per-VM time at this size / per-VM time at the smallest size (1 = linear). */
    perVmRatio: number;
    reportJsonBytes: number;
    reportJsonBytesPerVm: number;
    msRounds: number[];
    floorMsRounds: number[];
  };
}

interface FinalizeResult {
  vms: number;
  ms: number;
  rssMiB: number;
  s3LatencyMs: number;
  /** Storing the run before the finalization (not part of the measure). */
  storeMs: number;
  limits: FunctionLimits;
  withinTime: boolean;
  withinMemory: boolean;
}

interface BenchResults {
  generatedAt: string;
  machine: { cpus: number; node: string; loadAverageAtStart: number[] };
  targets: typeof ANALYSIS_TARGETS & { atVms: number; perVmReferenceVms: number };
  sizes: SizeResult[];
  endToEnd?: SsmBenchResult;
  finalize?: FinalizeResult;
  reportHtml?: HtmlReportBenchResult[];
  errors: Array<{ part: Part; error: string }>;
}

const sizes = numbers('BENCH_SIZES', '1000,10000').sort((a, b) => a - b);
const parts = new Set((process.env.BENCH_PARTS ?? PARTS.join(',')).split(',').map((p) => p.trim()));
for (const part of parts)
  if (!(PARTS as readonly string[]).includes(part))
    throw new Error(`BENCH_PARTS: unknown part ${JSON.stringify(part)} (one of ${PARTS.join(', ')})`);
const e2eVms = numbers('BENCH_E2E_VMS', '1000')[0]!;
const finalizeVms = numbers('BENCH_FINALIZE_VMS', '10000')[0]!;
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 30);
const resultsPath = process.env.BENCH_RESULTS ?? 'bench-results.json';

const results: BenchResults = {
  generatedAt: new Date().toISOString(),
  machine: { cpus: cpus().length, node: process.version, loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))) },
  targets: { ...ANALYSIS_TARGETS, atVms: sizes.at(-1)!, perVmReferenceVms: sizes[0]! },
  sizes: [],
  errors: [],
};
const started = performance.now();
let kept: SimFleet | undefined;

if (parts.has('analysis')) {
  await part('analysis', async () => {
    for (const vms of sizes) {
      const fleet = await benchFleet(vms);
      if (vms === finalizeVms && parts.has('finalize')) kept = fleet;
      results.sizes.push(await measureStoredAnalysis(fleet));
      await save();
    }
  });
}
if (parts.has('end-to-end')) {
  await part('end-to-end', async () => {
    results.endToEnd = await measureEndToEnd(e2eVms, latencyMs);
    await save();
  });
}
if (parts.has('finalize')) {
  await part('finalize', async () => {
    log(`finalize: building the ${finalizeVms}-VM fleet`);
    const fleet = kept ?? (await benchFleet(finalizeVms));
    kept = undefined;
    results.finalize = await measureFinalize(fleet, latencyMs);
    await save();
  });
}
if (parts.has('report-html')) {
  await part('report-html', async () => {
    results.reportHtml = await measureReportHtml(sizes);
    await save();
  });
}
await save();
console.log(`\n${formatResults(results)}`);
console.log(`\nnpm run bench took ${((performance.now() - started) / 60_000).toFixed(1)} min; figures in ${resultsPath}`);
if (results.errors.length > 0) process.exitCode = 1;

async function measureStoredAnalysis(fleet: SimFleet): Promise<SizeResult> {
  const vms = fleet.vms.length;
  const dir = await mkdtemp(join(tmpdir(), `fleet-audit-bench-${vms}-`));
  try {
    const bundle = join(dir, 'evidence');
    log(`analysis ${vms} VMs: storing the bundle`);
    await storeSimBundle(bundle, fleet);
    const bundleBytes = await treeBytes(bundle);
    const rounds = vms <= REPEATED_UP_TO ? 3 : 1;
    const floor: Array<{ ms: number; rssMiB: number }> = [];
    const analysis: Array<{ ms: number; rssMiB: number }> = [];
    // Alternated, so that a burst of load from elsewhere touches both alike.
    for (let round = 1; round <= rounds; round++) {
      log(`analysis ${vms} VMs: floor, round ${round}/${rounds}`);
      floor.push(await runMeasured<{ ms: number; rssMiB: number }>('./measure-floor.ts', [bundle]));
      log(`analysis ${vms} VMs: analyzeStoredBundle, round ${round}/${rounds}`);
      analysis.push(await runMeasured<{ ms: number; rssMiB: number }>('./measure-analysis.ts', [bundle, join(dir, `reports-${round}`)]));
    }
    const ms = median(analysis.map((r) => r.ms));
    const floorMs = median(floor.map((r) => r.ms));
    const reportJsonBytes = (await stat(join(dir, 'reports-1', 'report.json'))).size;
    const perVmMs = ms / vms;
    const reference = results.sizes[0];
    return {
      vms,
      bundleBytes,
      rounds,
      analysis: {
        ms: Math.round(ms),
        rssMiB: Math.max(...analysis.map((r) => r.rssMiB)),
        floorMs: Math.round(floorMs),
        floorRssMiB: Math.max(...floor.map((r) => r.rssMiB)),
        floorRatio: round(ms / floorMs, 2),
        perVmMs: round(perVmMs, 3),
        perVmRatio: reference ? round(perVmMs / (reference.analysis.ms / reference.vms), 2) : 1,
        reportJsonBytes,
        reportJsonBytesPerVm: Math.round(reportJsonBytes / vms),
        msRounds: analysis.map((r) => Math.round(r.ms)),
        floorMsRounds: floor.map((r) => Math.round(r.ms)),
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureEndToEnd(vms: number, latency: number): Promise<SsmBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-audit-bench-e2e-'));
  try {
    log(`end to end: run --source sim-aws and the naive collection, ${vms} VMs, ${latency} ms a call`);
    const file = join(dir, 'results.json');
    // Its own table is printed again in the summary; here it only shows progress.
    await runBenchScript('./ssm.ts', ['--vms', String(vms), '--latency-ms', String(latency), '--results', file], { captureStdout: true });
    const written = JSON.parse(await readFile(file, 'utf8')) as { endToEnd: SsmBenchResult };
    return written.endToEnd;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureReportHtml(vms: readonly number[]): Promise<HtmlReportBenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-audit-bench-html-'));
  try {
    log(`report.html: ${vms.join(', ')} VMs, opened in headless Chromium`);
    const file = join(dir, 'results.json');
    await runBenchScript('./report-html.ts', ['--sizes', vms.join(','), '--results', file], { captureStdout: true });
    return (JSON.parse(await readFile(file, 'utf8')) as { reportHtml: HtmlReportBenchResult[] }).reportHtml;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureFinalize(fleet: SimFleet, s3LatencyMs: number): Promise<FinalizeResult> {
  log(`finalize: storing a ${fleet.vms.length}-VM run in S3 (s3rver)`);
  const fixture = await startFinalizeFixture(fleet, { s3LatencyMs });
  try {
    log(`finalize: finalizeAudit, ${s3LatencyMs} ms a request to S3`);
    const measured = await runMeasured<{ ms: number; rssMiB: number; vmsInReport: number }>('./measure-finalize.ts', [
      JSON.stringify(fixture.setup),
    ]);
    const limits = await functionLimits(FINALIZING_FUNCTION);
    return {
      vms: fleet.vms.length,
      ms: Math.round(measured.ms),
      rssMiB: measured.rssMiB,
      s3LatencyMs,
      storeMs: Math.round(fixture.storeMs),
      limits,
      withinTime: measured.ms <= limits.timeoutSeconds * 1000,
      withinMemory: measured.rssMiB <= limits.memoryMiB,
    };
  } finally {
    await fixture.close();
  }
}

/** The figures as tables, each next to its target. */
function formatResults(r: BenchResults): string {
  const sections: string[] = [];
  if (r.sizes.length > 0) {
    const largest = r.sizes.at(-1)!;
    const head = [
      'stored bundle → report (analyzeStoredBundle)',
      ...r.sizes.map((s) => `${s.vms.toLocaleString('en')} VMs`),
      `target at ${largest.vms.toLocaleString('en')}`,
    ];
    const mark = (ok: boolean): string => (ok ? 'met' : 'MISSED');
    const rows = [
      head,
      ['bundle (MiB)', ...r.sizes.map((s) => (s.bundleBytes / 2 ** 20).toFixed(1)), ''],
      ['floor: read + JSON.parse (ms)', ...r.sizes.map((s) => String(s.analysis.floorMs)), ''],
      ['analysis (ms)', ...r.sizes.map((s) => String(s.analysis.ms)), ''],
      [
        'analysis / floor',
        ...r.sizes.map((s) => `${s.analysis.floorRatio}×`),
        `≤ ${r.targets.floorRatioMax}× ${mark(largest.analysis.floorRatio <= r.targets.floorRatioMax)}`,
      ],
      ['per-VM time (ms)', ...r.sizes.map((s) => s.analysis.perVmMs.toFixed(3)), ''],
      [
        `per-VM time / at ${r.sizes[0]!.vms.toLocaleString('en')}`,
        ...r.sizes.map((s) => s.analysis.perVmRatio.toFixed(2)),
        r.sizes.length > 1 ? `≤ ${r.targets.perVmRatioMax} ${mark(largest.analysis.perVmRatio <= r.targets.perVmRatioMax)}` : '',
      ],
      [
        'peak RSS, analysis (MiB)',
        ...r.sizes.map((s) => String(s.analysis.rssMiB)),
        `≤ ${r.targets.rssMiBMax} ${mark(largest.analysis.rssMiB <= r.targets.rssMiBMax)}`,
      ],
      ['peak RSS, floor (MiB)', ...r.sizes.map((s) => String(s.analysis.floorRssMiB)), ''],
      ['report.json (bytes)', ...r.sizes.map((s) => String(s.analysis.reportJsonBytes)), ''],
      ['report.json per VM (bytes)', ...r.sizes.map((s) => String(s.analysis.reportJsonBytesPerVm)), ''],
      ['rounds (median taken)', ...r.sizes.map((s) => String(s.rounds)), ''],
    ];
    sections.push(table(rows));
  }
  if (r.endToEnd) sections.push(formatSsmBench(r.endToEnd));
  if (r.finalize) {
    const f = r.finalize;
    const fn = `${f.limits.function}: ${f.limits.timeoutSeconds} s, ${f.limits.memoryMiB} MB`;
    sections.push(
      table([
        [`finalizeAudit, ${f.vms.toLocaleString('en')} VMs collected, S3 at ${f.s3LatencyMs} ms a request`, 'measured', `limit (${fn})`],
        ['wall (s)', (f.ms / 1000).toFixed(1), `${f.limits.timeoutSeconds} ${f.withinTime ? 'within' : 'EXCEEDED'}`],
        ['peak RSS (MiB)', String(f.rssMiB), `${f.limits.memoryMiB} ${f.withinMemory ? 'within' : 'EXCEEDED'}`],
      ]),
    );
  }
  if (r.reportHtml) sections.push(formatHtmlReportBench(r.reportHtml));
  for (const e of r.errors) sections.push(`${e.part} FAILED: ${e.error}`);
  return sections.join('\n\n');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A part that fails is reported and the others still run: a finalization out of memory must not hide the analysis figures. */
async function part(name: Part, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    results.errors.push({ part: name, error: message });
    log(`${name} failed: ${message}`);
  }
}

async function save(): Promise<void> {
  await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
}

async function treeBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}

function numbers(name: string, fallback: string): number[] {
  const values = (process.env[name] ?? fallback).split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`${name} must be whole numbers separated by commas, got ${JSON.stringify(process.env[name])}`);
  return values;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

function round(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}

function log(message: string): void {
  console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);
}
