/**
 * End to end `run --source sim-aws` (the simulated fleet behind the simulated SSM, S3 and Kubernetes
 * endpoints, audited through the AWS path with the real SDK clients), with an emulated latency on every
 * SSM and S3 call, next to the same fleet collected the naive way: one SendCommand per instance and
 * GetCommandInvocation polling per instance. A benchmark, not a test:
 *
 *   node bench/ssm.ts [--vms 1000] [--latency-ms 30] [--seed 1] [--no-naive] [--results bench-results.json]
 *                     [--execution-ms N --spread-ms N]
 *
 * By default the simulated scripts end within tens of milliseconds, as in `run --source sim-aws`; give
 * --execution-ms and --spread-ms (e.g. 1500 and 3000) to make invocations end over several polling rounds.
 *
 * Prints a table and merges its figures into the results file under `endToEnd`. Other runners call
 * `benchSsmEndToEnd()`.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SIM_AWS_TIMING } from '../cli/commands/run-sim-aws.ts';
import { auditThroughAws } from '../lib/compose/aws-audit.ts';
import { LocalAuditStore } from '../lib/adapters/local-audit-store.ts';
import { SsmFleetRunner } from '../lib/adapters/ssm-fleet-runner.ts';
import { isTerminalInvocationStatus } from '../lib/core/invocation-records.ts';
import { buildSimFleetAsync } from '../sim/fleet.ts';
import { startSimCloud } from '../sim/sim-cloud.ts';
import { totalCalls } from '../lib/shared/call-counts.ts';

export interface SsmBenchOptions {
  vms?: number;
  /** Added to every SSM and S3 answer of the simulated endpoints (default 30 ms). */
  latencyMs?: number;
  seed?: number;
  /** Also collect the fleet the naive way, as the baseline (default true). */
  naive?: boolean;
  /** How long the simulated script runs, and a random extra per VM (default: the simulator's, tens of ms). */
  executionMs?: number;
  spreadMs?: number;
}

export interface CallFigures {
  wallMs: number;
  apiCalls: Record<string, number>;
  apiCallsTotal: number;
}

export interface SsmBenchResult {
  vms: number;
  latencyMs: number;
  /** The simulated scripts' run time and spread, when not the simulator's defaults. */
  delays?: { executionMs: number; spreadMs: number };
  /** `run --source sim-aws`, inventory to stored report. */
  run: CallFigures & {
    /** Peak RSS of the process so far, the simulated endpoints included (they run in the CLI's process too). */
    rssMiB: number;
    /** The least ListCommandInvocations can do: every invocation listed once, 50 a page. */
    listingFloor: number;
    listingRatio: number;
    vmsInReport: number;
  };
  /** One SendCommand and GetCommandInvocation polling per instance (AWS calls only). */
  naive?: CallFigures & { invocations: number };
  /** Naive AWS calls / the collector's AWS calls. */
  callRatio?: number;
}

export async function benchSsmEndToEnd(options: SsmBenchOptions = {}): Promise<SsmBenchResult> {
  const vms = options.vms ?? 1000;
  const latencyMs = options.latencyMs ?? 30;
  const seed = options.seed ?? 1;
  const delays =
    options.executionMs === undefined && options.spreadMs === undefined
      ? undefined
      : { executionMs: options.executionMs ?? 20, spreadMs: options.spreadMs ?? 20 };
  const ssm = { latencyMs, ...(delays ? { delays: { ...delays, undeliverableMs: delays.executionMs + delays.spreadMs } } : {}) };
  const run = await endToEnd(vms, ssm, seed);
  const result: SsmBenchResult = { vms, latencyMs, ...(delays ? { delays } : {}), run };
  if (options.naive ?? true) {
    const naive = await naiveCollection(vms, ssm, seed);
    result.naive = naive;
    result.callRatio = round(naive.apiCallsTotal / awsTotal(run.apiCalls), 1);
  }
  return result;
}

type SimSsm = NonNullable<Parameters<typeof startSimCloud>[0]['ssm']>;

async function endToEnd(vms: number, ssm: SimSsm, seed: number): Promise<SsmBenchResult['run']> {
  const out = await mkdtemp(join(tmpdir(), 'fleet-audit-bench-'));
  const started = performance.now();
  try {
    const fleet = await buildSimFleetAsync({ vms, seed, now: new Date() });
    const cloud = await startSimCloud({ fleet, ssm });
    try {
      const { result, apiCalls } = await auditThroughAws(
        {
          runId: `bench-${vms}`,
          region: cloud.region,
          credentials: cloud.credentials,
          target: { kind: 'tag', key: cloud.tagKey },
          bucket: cloud.bucket,
          document: 'FleetAudit-Diagnostics',
          ssmEndpoint: cloud.ssmEndpoint,
          s3Endpoint: cloud.s3Endpoint,
          kube: { kind: 'file', path: cloud.kubeconfigPath },
          targets: { simulated: { vms, seed }, through: 'aws-api' },
          timing: SIM_AWS_TIMING,
        },
        {
          store: new LocalAuditStore(out),
          clock: () => new Date(),
          toolVersion: 'bench',
        },
      );
      const wallMs = Math.round(performance.now() - started);
      const listingFloor = Math.ceil(vms / 50);
      return {
        wallMs,
        apiCalls,
        apiCallsTotal: totalCalls(apiCalls),
        rssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
        listingFloor,
        listingRatio: round((apiCalls['SSM.ListCommandInvocations'] ?? 0) / listingFloor, 2),
        vmsInReport: result.report.summary.vms,
      };
    } finally {
      await cloud.close();
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** What a first script would do: a command per instance, then GetCommandInvocation for each until it ends. */
async function naiveCollection(vms: number, simSsm: SimSsm, seed: number): Promise<NonNullable<SsmBenchResult['naive']>> {
  const fleet = await buildSimFleetAsync({ vms, seed, now: new Date() });
  const cloud = await startSimCloud({ fleet, ssm: simSsm });
  // The same inventory calls as the collector, so that the two differ only in how they collect.
  const inventoryRunner = new SsmFleetRunner({
    region: cloud.region,
    credentials: cloud.credentials,
    ssmEndpoint: cloud.ssmEndpoint,
    documentName: 'FleetAudit-Diagnostics',
    target: { kind: 'tag', key: cloud.tagKey },
  });
  const ssm = new SSMClient({ region: cloud.region, credentials: cloud.credentials, endpoint: cloud.ssmEndpoint, maxAttempts: 5 });
  const calls: Record<string, number> = {};
  const count = (op: string): void => void (calls[`SSM.${op}`] = (calls[`SSM.${op}`] ?? 0) + 1);
  const started = performance.now();
  try {
    const inventory = await inventoryRunner.listInstances();
    Object.assign(calls, inventoryRunner.callCounts());
    const ids = inventory.InstanceInformationList.map((i) => i.InstanceId);
    const commandOf = new Map<string, string>();
    await eachLimited(ids, 10, async (id) => {
      count('SendCommand');
      const sent = await ssm.send(
        new SendCommandCommand({ InstanceIds: [id], DocumentName: 'FleetAudit-Diagnostics', MaxErrors: '100%', TimeoutSeconds: 600 }),
      );
      commandOf.set(id, sent.Command!.CommandId!);
    });
    let open = ids;
    let delay = SIM_AWS_TIMING.poll?.initialDelayMs ?? 25;
    let invocations = 0;
    while (open.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(SIM_AWS_TIMING.poll?.maxDelayMs ?? 150, delay * 1.5);
      const still: string[] = [];
      await eachLimited(open, 10, async (id) => {
        count('GetCommandInvocation');
        try {
          const got = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandOf.get(id)!, InstanceId: id }));
          if (isTerminalInvocationStatus(got.Status, got.StatusDetails)) invocations++;
          else still.push(id);
        } catch {
          still.push(id);
        }
      });
      open = still;
    }
    const wallMs = Math.round(performance.now() - started);
    return { wallMs, apiCalls: sorted(calls), apiCallsTotal: totalCalls(calls), invocations };
  } finally {
    inventoryRunner.destroy();
    ssm.destroy();
    await cloud.close();
  }
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function awsTotal(calls: Record<string, number>): number {
  return totalCalls(Object.fromEntries(Object.entries(calls).filter(([k]) => k.startsWith('SSM.') || k.startsWith('S3.'))));
}

function sorted(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

function round(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}

/** The figures as a table, one row per operation. */
export function formatSsmBench(r: SsmBenchResult): string {
  const ops = [...new Set([...Object.keys(r.run.apiCalls), ...Object.keys(r.naive?.apiCalls ?? {})])].sort();
  const rows = [
    [
      `${r.vms} VMs, ${r.latencyMs} ms a call${r.delays ? `, scripts ${r.delays.executionMs}+${r.delays.spreadMs} ms` : ''}`,
      'run --source sim-aws',
      'naive',
    ],
    // The run's wall time covers building the simulated fleet, the analysis and the reports; the naive one only collects.
    ['wall (s)', (r.run.wallMs / 1000).toFixed(1), r.naive ? (r.naive.wallMs / 1000).toFixed(1) : '-'],
    ['peak RSS (MiB)', String(r.run.rssMiB), '-'],
    ...ops.map((op) => [op, String(r.run.apiCalls[op] ?? 0), String(r.naive?.apiCalls[op] ?? 0)]),
    ['AWS calls', String(awsTotal(r.run.apiCalls)), r.naive ? String(r.naive.apiCallsTotal) : '-'],
    ['ListCommandInvocations / floor', `${r.run.listingRatio} (floor ${r.run.listingFloor})`, '-'],
    ['call ratio naive / collector', '', r.callRatio === undefined ? '-' : `${r.callRatio}×`],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

/** Writes the figures under `endToEnd`, keeping whatever else the file holds. */
export async function mergeBenchResults(path: string, result: SsmBenchResult): Promise<void> {
  let existing: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) existing = parsed as Record<string, unknown>;
  } catch {
    existing = {};
  }
  await writeFile(path, `${JSON.stringify({ ...existing, endToEnd: result }, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      vms: { type: 'string', default: '1000' },
      'latency-ms': { type: 'string', default: '30' },
      seed: { type: 'string', default: '1' },
      'no-naive': { type: 'boolean', default: false },
      results: { type: 'string', default: 'bench-results.json' },
      'execution-ms': { type: 'string' },
      'spread-ms': { type: 'string' },
    },
  });
  const result = await benchSsmEndToEnd({
    vms: Number(values.vms),
    latencyMs: Number(values['latency-ms']),
    seed: Number(values.seed),
    naive: !values['no-naive'],
    ...(values['execution-ms'] === undefined ? {} : { executionMs: Number(values['execution-ms']) }),
    ...(values['spread-ms'] === undefined ? {} : { spreadMs: Number(values['spread-ms']) }),
  });
  console.log(formatSsmBench(result));
  await mergeBenchResults(values.results, result);
  console.log(`\nwritten to ${values.results} (endToEnd)`);
}
