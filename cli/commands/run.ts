import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';
import { Option, type Command } from 'commander';
import {
  AuditStoppedError,
  auditThroughAws,
  NoRegionError,
  type AwsAuditDeps,
  type AwsAuditResult,
  type AwsAuditSettings,
} from '../../lib/compose/aws-audit.ts';
import { composeLocalAuditStore } from '../../lib/compose/local-side.ts';
import { MeshSetupError } from '../../lib/compose/mesh-reader.ts';
import { renderTerminalSummary } from '../../lib/core/render/terminal-summary.ts';
import { buildSimFleetAsync, DEFAULT_SIM_SEED, DEFAULT_SIM_VMS } from '../../sim/fleet.ts';
import { SimFleetRunner, SimMeshReader } from '../../sim/sim-sources.ts';
import type { PublishComplianceResult } from '../../lib/use-cases/publish-compliance.ts';
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
import { totalCalls } from '../../lib/shared/call-counts.ts';
import { newRunId } from '../../lib/shared/identifiers.ts';
import {
  awsSettings,
  checkFlagsOfSource,
  DEFAULT_DOCUMENT,
  nonNegativeInt,
  positiveInt,
  RUN_SOURCES,
  type RunOptions,
} from './run-flags.ts';
import { auditSimThroughAws } from './run-sim-aws.ts';

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
      checkFlagsOfSource(opts, command);
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
            auditWithProgress(s, { store, clock: io.clock, toolVersion, analyze, ...formats }, io);
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

/**
 * The audit through AWS with the command's progress bar and messages; what stops it (an unusable kubeconfig,
 * no region, an AWS call that fails for good) becomes a CliUsageError that says so in a sentence.
 */
async function auditWithProgress(
  settings: AwsAuditSettings,
  deps: Omit<AwsAuditDeps, 'onReady' | 'onProgress'>,
  io: CliIo,
): Promise<AwsAuditResult> {
  const progress = progressDisplay(io);
  try {
    return await auditThroughAws(settings, {
      ...deps,
      onReady: () => {
        if (settings.bucket === undefined)
          io.stderr(
            'fleet-audit: no --bucket: outputs come from GetCommandInvocation, which cuts them at 24,000 bytes (COLLECT-03 names the VMs affected)\n',
          );
      },
      ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
    });
  } catch (error) {
    throw usageErrorOf(error);
  } finally {
    progress.stop();
  }
}

function usageErrorOf(error: unknown): unknown {
  if (error instanceof MeshSetupError)
    return new CliUsageError(error.stage === 'kubeconfig' ? `cannot use the kubeconfig: ${error.message}` : error.message);
  if (error instanceof NoRegionError)
    return new CliUsageError('no AWS region: pass --region, set AWS_REGION, or set one in the AWS profile');
  if (error instanceof AuditStoppedError) {
    const kept = error.evidenceLocation === undefined ? '' : ` The evidence collected so far is in ${error.evidenceLocation}/evidence.`;
    return new CliUsageError(`${error.message}\nThe audit stopped and wrote no report.${kept}`);
  }
  return error;
}

function formatCallCounts(counts: Record<string, number>): string {
  return `${totalCalls(counts)} (${Object.entries(counts)
    .map(([key, n]) => `${key} ${n}`)
    .join(', ')})`;
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
