import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { AwsCallError, composeAwsSide, type AwsSideSettings, type SsmTarget } from '../../lib/compose/aws-side.ts';
import { composeLocalAuditStore } from '../../lib/compose/local-side.ts';
import { composeReportingSide } from '../../lib/compose/reporting-side.ts';
import { composeMeshReader, MeshSetupError, type MeshReaderSettings } from '../../lib/compose/mesh-reader.ts';
import type { AnalyzeOptions } from '../../lib/core/analyze.ts';
import type { ReportFormat } from '../../lib/core/render/artifacts.ts';
import type { Severity } from '../../lib/core/report.ts';
import { renderTerminalSummary } from '../../lib/core/render/terminal-summary.ts';
import type { AuditStore } from '../../lib/ports/audit-store.ts';
import type { MeshReader } from '../../lib/ports/mesh-reader.ts';
import { buildSimFleetAsync, DEFAULT_SIM_SEED, DEFAULT_SIM_VMS } from '../../sim/fleet.ts';
import { SimFleetRunner, SimMeshReader } from '../../sim/sim-sources.ts';
import type * as SimCloudModuleType from '../../sim/sim-cloud.ts';
import { publishCompliance, type PublishComplianceResult } from '../../lib/use-cases/publish-compliance.ts';
import { runAudit, type RunAuditResult } from '../../lib/use-cases/run-audit.ts';
import { readWaiversFile } from '../waivers-file.ts';
import {
  CliUsageError,
  failOnOption,
  failOnUnknownOption,
  gateExit,
  outputOption,
  reportFormatsOption,
  reportJson,
  type CliIo,
  type CommandContext,
} from '../context.ts';
import { AWS_REGION, INSTANCE_ID, newRunId } from '../../lib/shared/identifiers.ts';

export const RUN_SOURCES = ['sim', 'aws', 'sim-aws'] as const;
type RunSource = (typeof RUN_SOURCES)[number];

export const DEFAULT_DOCUMENT = 'FleetAudit-Diagnostics';

interface RunOptions {
  source: RunSource;
  vms: number;
  seed: number;
  out: string;
  format?: ReportFormat[];
  runId?: string;
  failOn?: Severity;
  failOnUnknown?: boolean;
  output?: 'json';
  waivers?: string;
  region?: string;
  kubeconfig?: string;
  context?: string;
  tag?: string;
  instanceIds?: string;
  bucket?: string;
  document: string;
  ssmEndpoint?: string;
  s3Endpoint?: string;
  rootCaConfigmap?: string;
  ssmCompliance: boolean;
}

/** Flags that only mean something for `--source aws`, by commander attribute name. */
const AWS_FLAGS = [
  'region',
  'kubeconfig',
  'context',
  'tag',
  'instanceIds',
  'bucket',
  'document',
  'ssmEndpoint',
  's3Endpoint',
  'rootCaConfigmap',
] as const;
/** Flags that only mean something for the simulated fleet. */
const SIM_FLAGS = ['vms', 'seed'] as const;

/** `fleet-audit run`: audit the fleet, store the evidence bundle and the reports, print the summary. */
export function registerRunCommand(program: Command, { io, toolVersion, setExitCode }: CommandContext): void {
  program
    .command('run')
    .description('Audit the fleet and write the evidence bundle and reports to the store')
    .addOption(
      new Option(
        '--source <source>',
        'where the fleet is: the simulator in process, AWS, or the simulator behind simulated AWS and Kubernetes endpoints',
      )
        .choices(RUN_SOURCES)
        .default('sim'),
    )
    .option('--vms <n>', 'size of the simulated fleet', positiveInt, DEFAULT_SIM_VMS)
    .option('--seed <s>', 'seed of the simulated fleet', nonNegativeInt, DEFAULT_SIM_SEED)
    .option('--out <dir>', 'the local audit store; - prints report.json on standard output and keeps nothing', 'audit-store')
    .option('--run-id <id>', 'the run id (default: the start time and a random suffix)')
    .addOption(reportFormatsOption())
    .addOption(failOnOption())
    .addOption(failOnUnknownOption())
    .addOption(outputOption())
    .option('--waivers <file>', 'accepted FAILs, reported WAIVED until they expire (YAML or JSON: waivers: [...])')
    .option('--region <region>', "AWS region (default: the SDK's: AWS_REGION, then the profile)")
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--tag <key=value>', 'audit the managed nodes with this tag (KEY=VALUE, KEY=VALUE1,VALUE2, or KEY for any value)')
    .option('--instance-ids <ids>', 'audit these managed nodes (i-…,mi-…)')
    .option('--bucket <name>', 'evidence bucket for the command output (without it, outputs over 24,000 bytes are cut)')
    .option('--document <name>', 'the SSM Command document to run', DEFAULT_DOCUMENT)
    .option('--no-ssm-compliance', 'aws, sim-aws: do not publish the findings as SSM Compliance items (type Custom:IstioMeshAudit)')
    .option('--ssm-endpoint <url>', 'SSM endpoint override')
    .option('--s3-endpoint <url>', 'S3 endpoint override (path-style addressing)')
    .option(
      '--root-ca-configmap <name>',
      "the mesh's root-of-trust ConfigMap (default: the name istiod is run with, PILOT_CA_CERT_CONFIGMAP, else istio-ca-root-cert)",
    )
    .action(async (opts: RunOptions, command: Command) => {
      const given = (name: string): boolean => command.getOptionValueSource(name) === 'cli';
      const misplaced = opts.source === 'aws' ? SIM_FLAGS.filter(given) : AWS_FLAGS.filter(given);
      if (misplaced.length > 0) {
        const flags = misplaced.map((name) => `--${kebab(name)}`).join(', ');
        throw new CliUsageError(opts.source === 'aws' ? `${flags}: only for --source sim or sim-aws` : `${flags}: only for --source aws`);
      }
      if (opts.source === 'sim' && given('ssmCompliance')) throw new CliUsageError('--no-ssm-compliance: only for --source aws or sim-aws');
      const startedAt = io.clock();
      // Read before anything runs: a malformed waivers file stops the audit before it starts.
      const analyze = { waivers: opts.waivers ? await readWaiversFile(opts.waivers, startedAt) : [] };
      const formats = opts.format ? { formats: opts.format } : {};
      const runId = opts.runId ?? newRunId(startedAt, opts.source);
      // `--out -`: the run goes through a store of its own that is removed once the report is printed.
      const toStdout = opts.out === '-';
      const storeDir = toStdout ? await mkdtemp(join(tmpdir(), 'fleet-audit-run-')) : opts.out;
      try {
        const store = composeLocalAuditStore(storeDir);
        let result: RunAuditResult;
        let apiCalls: Record<string, number> | undefined;
        let compliance: PublishComplianceResult | undefined;
        if (opts.source === 'sim') {
          const fleet = await buildSimFleetAsync({ vms: opts.vms, seed: opts.seed, now: startedAt });
          result = await runAudit(
            { fleet: new SimFleetRunner(fleet), mesh: new SimMeshReader(fleet), store, clock: io.clock },
            { runId, source: 'sim', toolVersion, targets: { simulated: { vms: opts.vms, seed: opts.seed } }, analyze, ...formats },
          );
        } else {
          const settings = opts.source === 'aws' ? awsSettings(opts, runId) : undefined;
          const audit = (s: AwsAuditSettings): Promise<AwsAuditResult> =>
            auditThroughAws(s, { store, clock: io.clock, toolVersion, io, analyze, ...formats });
          ({ result, apiCalls, compliance } = settings ? await audit(settings) : await auditSimThroughAws(opts, runId, startedAt, audit));
        }
        if (toStdout || opts.output === 'json') {
          io.stdout(reportJson(result.report));
        } else {
          io.stdout(renderTerminalSummary(result.report));
          io.stdout(`\nEvidence: ${result.location}/evidence\nReports:  ${result.written.join('\n          ')}\n`);
          if (apiCalls) io.stdout(`API calls: ${formatCallCounts(apiCalls)}\n`);
          if (compliance)
            io.stdout(
              `SSM Compliance: ${compliance.published} VM${compliance.published === 1 ? '' : 's'} published${compliance.failed.length > 0 ? `, ${compliance.failed.length} failed` : ''}\n`,
            );
        }
        for (const failed of compliance?.failed.slice(0, 5) ?? [])
          io.stderr(`fleet-audit: SSM Compliance of ${failed.instanceId}: ${failed.error}\n`);
        if (result.report.summary.vms === 0) io.stderr('fleet-audit: no managed node matched the target\n');
        setExitCode(gateExit(result.report, { failOn: opts.failOn, failOnUnknown: opts.failOnUnknown === true }, io));
      } finally {
        if (toStdout) await rm(storeDir, { recursive: true, force: true });
      }
    });
}

// ------------------------------------------------------------------------------- the AWS path

/** Everything `--source aws` needs to know: where the fleet and the cluster are, and how to reach them. */
export interface AwsAuditSettings {
  runId: string;
  /** Default: the SDK's chain (AWS_REGION, then the profile's configuration). */
  region?: string;
  /** Default: the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  target: SsmTarget;
  bucket?: string;
  document: string;
  ssmEndpoint?: string;
  s3Endpoint?: string;
  kube: MeshReaderSettings['kube'];
  /** The root-of-trust ConfigMap's name, when set by hand (otherwise the reader asks istiod's pods). */
  rootCaConfigMap?: string;
  /** What the manifest records as the run's targets. */
  targets: unknown;
  /** Publish each VM's findings as SSM Compliance items after the run (default true). */
  ssmCompliance?: boolean;
  /** Polling and retry timings of the SSM runner (the simulator answers in milliseconds). */
  timing?: AwsSideSettings['fleet']['timing'];
}

export interface AwsAuditDeps {
  store: AuditStore;
  clock: () => Date;
  toolVersion: string;
  io: CliIo;
  analyze?: AnalyzeOptions;
  /** The report files to write besides report.json (default: all). */
  formats?: readonly ReportFormat[];
}

export interface AwsAuditResult {
  result: RunAuditResult;
  /** What publishing SSM Compliance items gave, when it was on. */
  compliance?: PublishComplianceResult;
  /** Calls per service and operation, as the manifest records them. */
  apiCalls: Record<string, number>;
}

/**
 * Audits the fleet through SSM Run Command and the cluster through its Kubernetes API, with the real SDK
 * clients. An AWS call that stops the run, or a kubeconfig that cannot be used, becomes a CliUsageError
 * naming the call; the partial evidence stays in the store, and no report is written.
 */
export async function auditThroughAws(settings: AwsAuditSettings, deps: AwsAuditDeps): Promise<AwsAuditResult> {
  const side = composeAwsSide(
    {
      ...(settings.region ? { region: settings.region } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      ...(settings.ssmEndpoint ? { ssmEndpoint: settings.ssmEndpoint } : {}),
      ...(settings.s3Endpoint ? { s3Endpoint: settings.s3Endpoint } : {}),
      fleet: {
        ...(settings.bucket ? { bucket: settings.bucket } : {}),
        documentName: settings.document,
        target: settings.target,
        ...(settings.timing ? { timing: settings.timing } : {}),
      },
      mesh: { kube: settings.kube, ...(settings.rootCaConfigMap ? { rootCaConfigMap: settings.rootCaConfigMap } : {}) },
    },
    { composeMeshReader },
  );
  let mesh: MeshReader;
  try {
    mesh = await side.mesh!();
  } catch (error) {
    if (!(error instanceof MeshSetupError)) throw error;
    throw new CliUsageError(error.stage === 'kubeconfig' ? `cannot use the kubeconfig: ${error.message}` : error.message);
  }
  const runner = side.fleet(settings.runId);
  let region: string;
  try {
    region = await runner.region();
  } catch {
    side.close();
    throw new CliUsageError('no AWS region: pass --region, set AWS_REGION, or set one in the AWS profile');
  }
  if (settings.bucket === undefined) {
    deps.io.stderr(
      'fleet-audit: no --bucket: outputs come from GetCommandInvocation, which cuts them at 24,000 bytes (COLLECT-03 names the VMs affected)\n',
    );
  }
  let location: string | undefined;
  const store: AuditStore = {
    openRun: async (runId) => {
      const run = await deps.store.openRun(runId);
      location = run.location;
      return run;
    },
  };
  const progress = progressDisplay(deps.io);
  try {
    const result = await runAudit(
      { fleet: runner, mesh, store, clock: deps.clock, apiCalls: side.callCounts },
      {
        runId: settings.runId,
        source: 'aws',
        toolVersion: deps.toolVersion,
        targets: { region, ...(settings.targets as object) },
        ...(deps.analyze ? { analyze: deps.analyze } : {}),
        ...(deps.formats ? { formats: deps.formats } : {}),
        ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
      },
    );
    const calls = side.callCounts();
    if (settings.ssmCompliance === false) return { result, apiCalls: calls };
    const publisher = composeReportingSide({
      region,
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      ...(settings.ssmEndpoint ? { ssmEndpoint: settings.ssmEndpoint } : {}),
    }).compliance();
    try {
      return { result, apiCalls: calls, compliance: await publishCompliance(publisher, result.report) };
    } finally {
      publisher.destroy();
    }
  } catch (error) {
    if (!(error instanceof AwsCallError)) throw error;
    const kept = location === undefined ? '' : ` The evidence collected so far is in ${location}/evidence.`;
    throw new CliUsageError(`${error.service} ${error.message}\nThe audit stopped and wrote no report.${kept}`);
  } finally {
    progress.stop();
    side.close();
  }
}

const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;
// Hex only: the ids become file names in the evidence bundle.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DOCUMENT = /^(?:arn:[\w-]+:ssm:[\w-]+:\d{12}:document\/)?[A-Za-z0-9_.-]{3,128}$/;

const TagFlagSchema = z
  .string()
  .transform((raw) => {
    const at = raw.indexOf('=');
    return at < 0
      ? { key: raw.trim() }
      : {
          key: raw.slice(0, at).trim(),
          values: raw
            .slice(at + 1)
            .split(',')
            .map((v) => v.trim()),
        };
  })
  .pipe(
    z.object({
      key: z.string().regex(TAG_KEY, { error: 'expected KEY=VALUE: the key must be 1-128 letters, digits, spaces or _.:/+-@' }),
      values: z
        .array(z.string().regex(TAG_VALUE, { error: 'expected KEY=VALUE: each value must be 1-256 letters, digits, spaces or _.:/=+-@' }))
        .max(50, { error: 'at most 50 values' })
        .optional(),
    }),
  );

const InstanceIdsFlagSchema = z
  .string()
  .transform((raw) => [
    ...new Set(
      raw
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    ),
  ])
  .pipe(
    z
      .array(z.string().regex(INSTANCE_ID, { error: (issue) => `${JSON.stringify(issue.input)} is not a managed node id (i-… or mi-…)` }))
      .min(1, { error: 'expected a comma-separated list of managed node ids (i-…,mi-…)' }),
  );

const EndpointSchema = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

const AwsFlagsSchema = z
  .object({
    region: z.string().regex(AWS_REGION, { error: 'expected an AWS region such as eu-west-1' }).optional(),
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    tag: TagFlagSchema.optional(),
    instanceIds: InstanceIdsFlagSchema.optional(),
    bucket: z.string().regex(BUCKET, { error: 'expected an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)' }).optional(),
    document: z.string().regex(DOCUMENT, { error: 'expected an SSM document name or ARN' }),
    ssmEndpoint: EndpointSchema.optional(),
    s3Endpoint: EndpointSchema.optional(),
    rootCaConfigmap: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
        error: 'expected a ConfigMap name (lowercase letters, digits, - and .)',
      })
      .max(253)
      .optional(),
  })
  .refine((f) => (f.tag === undefined) !== (f.instanceIds === undefined), {
    error: 'say which managed nodes to audit with exactly one of --tag KEY=VALUE or --instance-ids i-…,mi-…',
  });

/** The settings of `--source aws` from its flags, validated; a bad flag is a CliUsageError naming it. */
function awsSettings(opts: RunOptions, runId: string): AwsAuditSettings {
  const parsed = AwsFlagsSchema.safeParse(Object.fromEntries(AWS_FLAGS.map((name) => [name, opts[name]])));
  if (!parsed.success) {
    throw new CliUsageError(
      parsed.error.issues.map((i) => (i.path.length > 0 ? `--${kebab(String(i.path[0]))}: ${i.message}` : i.message)).join('\n'),
    );
  }
  const flags = parsed.data;
  // Without --region the SDK's chain decides (AWS_REGION, then the profile's configuration).
  const region = flags.region;
  const target: SsmTarget = flags.tag
    ? { kind: 'tag', key: flags.tag.key, ...(flags.tag.values ? { values: flags.tag.values } : {}) }
    : { kind: 'instanceIds', instanceIds: flags.instanceIds! };
  const kube: AwsAuditSettings['kube'] = flags.kubeconfig
    ? { kind: 'file', path: flags.kubeconfig, ...(flags.context ? { context: flags.context } : {}) }
    : { kind: 'default', ...(flags.context ? { context: flags.context } : {}) };
  return {
    runId,
    ...(region ? { region } : {}),
    target,
    ...(flags.bucket ? { bucket: flags.bucket } : {}),
    document: flags.document,
    ...(flags.ssmEndpoint ? { ssmEndpoint: flags.ssmEndpoint } : {}),
    ...(flags.s3Endpoint ? { s3Endpoint: flags.s3Endpoint } : {}),
    ssmCompliance: opts.ssmCompliance,
    kube,
    ...(flags.rootCaConfigmap ? { rootCaConfigMap: flags.rootCaConfigmap } : {}),
    targets: {
      ssm: {
        document: flags.document,
        ...(flags.tag ? { tag: flags.tag } : { instanceIds: flags.instanceIds }),
        bucket: flags.bucket ?? null,
        ...(flags.ssmEndpoint ? { endpoint: flags.ssmEndpoint } : {}),
      },
      kubernetes: {
        kubeconfig: flags.kubeconfig ?? null,
        context: flags.context ?? null,
        ...(flags.rootCaConfigmap ? { rootCaConfigMap: flags.rootCaConfigmap } : {}),
      },
    },
  };
}

// ------------------------------------------------------------------------- the simulator over AWS

/** Polls and retries at the pace of the simulated endpoints, so 50 VMs take seconds. */
export const SIM_AWS_TIMING: NonNullable<AwsAuditSettings['timing']> = {
  poll: { initialDelayMs: 25, maxDelayMs: 150 },
  outputRetry: { initialDelayMs: 20, attempts: 8 },
  apiRetry: { initialDelayMs: 20 },
  waitTimeoutMs: 120_000,
};

type SimCloudModule = typeof SimCloudModuleType;

/**
 * The simulated endpoints run on development packages (s3rver, js-yaml), so they are loaded only for
 * `--source sim-aws`, and an installed package without them says so in one line.
 */
async function loadSimCloud(): Promise<SimCloudModule> {
  try {
    return await import('../../sim/sim-cloud.ts');
  } catch (cause) {
    // ESM imports and CommonJS requires say a package is missing with different codes.
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw cause;
    throw new CliUsageError(
      '--source sim-aws needs the development dependencies (s3rver, js-yaml): run it from a source checkout after npm install',
    );
  }
}

/** `--source sim-aws`: the simulated fleet behind simulated SSM, S3 and Kubernetes endpoints, audited through the AWS path. */
async function auditSimThroughAws(
  opts: RunOptions,
  runId: string,
  startedAt: Date,
  audit: (settings: AwsAuditSettings) => Promise<AwsAuditResult>,
): Promise<AwsAuditResult> {
  const fleet = await buildSimFleetAsync({ vms: opts.vms, seed: opts.seed, now: startedAt });
  const cloud = await (await loadSimCloud()).startSimCloud({ fleet });
  try {
    return await audit({
      runId,
      region: cloud.region,
      credentials: cloud.credentials,
      target: { kind: 'tag', key: cloud.tagKey },
      bucket: cloud.bucket,
      document: opts.document,
      ssmEndpoint: cloud.ssmEndpoint,
      s3Endpoint: cloud.s3Endpoint,
      kube: { kind: 'file', path: cloud.kubeconfigPath },
      targets: { simulated: { vms: opts.vms, seed: opts.seed }, through: 'aws-api' },
      timing: SIM_AWS_TIMING,
      ssmCompliance: opts.ssmCompliance,
    });
  } finally {
    await cloud.close();
  }
}

// ----------------------------------------------------------------------------------- plumbing

function formatCallCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return `${total} (${entries.map(([key, n]) => `${key} ${n}`).join(', ')})`;
}

/** A progress bar of the VMs that reported, on stderr when it is a terminal; nothing otherwise. */
function progressDisplay(io: CliIo): { onProgress?: (event: { done: number; total: number }) => void; stop(): void } {
  if (process.stderr.isTTY !== true) return { stop: () => undefined };
  // Through io.stderr, so that the bar lands wherever the command's own messages go.
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        io.stderr(chunk.toString());
        callback();
      },
    }),
    { isTTY: true, columns: process.stderr.columns },
  );
  const bar = new SingleBar(
    { stream, format: 'VMs {bar} {value}/{total} | {duration_formatted}', hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress: ({ done, total }) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}
