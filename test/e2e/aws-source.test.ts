import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIM_AWS_TIMING } from '../../cli/commands/run-sim-aws.ts';
import { auditThroughAws } from '../../lib/compose/aws-audit.ts';
import { LocalAuditStore } from '../../lib/adapters/local-audit-store.ts';
import type { Invocation } from '../../lib/core/evidence-bundle.ts';
import type { Finding, Report } from '../../lib/core/report.ts';
import { buildSimFleetAsync, type SimFleet } from '../../sim/fleet.ts';
import { startSimCloud, type SimCloud } from '../../sim/sim-cloud.ts';
import type { AuditStore } from '../../lib/ports/audit-store.ts';
import { cli, type CliRun } from '../support/cli.ts';

/**
 * The same simulated fleet audited twice with one fixed clock: in process (`--source sim`), and through
 * the real AWS SDK and Kubernetes clients talking HTTP to the simulated SSM endpoint, s3rver and the
 * simulated Kubernetes API (`--source sim-aws`). The two reports must say the same thing.
 */

const VMS = 50;
const SEED = 11;

/**
 * The fixed clock of both runs. The simulated SSM endpoint stamps executions with the real time, and
 * CERT-05 compares them with the VM's clock (the fleet's `now`): the clock is therefore taken from the
 * real time once, so both runs see the VM clocks in sync, and nothing else in either run reads the time.
 */
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);

// A fingerprint whole, or cut to an excerpt in a PASS finding's evidence.
const SHA256 = /\b(?:[0-9a-f]{64}\b|[0-9a-f]{16,63}…)/g;

/**
 * A finding with what may legitimately differ between the two runs taken out:
 * - fingerprints (64 hex digits) of the mesh and VM certificates: each run mints its fleet's keys anew,
 *   and WebCrypto key generation cannot be seeded;
 * - CERT-05's `auditorWindow` and `skewSeconds`, and the seconds its message counts: in process the
 *   execution window is the fleet's `now` minus 4 s, through SSM it is when the simulated endpoint ran the
 *   script, a few seconds later in real time, while the VM prints the fleet's `now` either way (the
 *   verdict, within 60 s or not, is the same);
 * Everything else, list order included, must be equal: the analysis sorts what the APIs list.
 */
function comparable(finding: Finding): unknown {
  const { auditorWindow: _window, skewSeconds: _skew, ...evidence } = (finding.evidence ?? {}) as Record<string, unknown>;
  return {
    control: finding.control,
    status: finding.status,
    severity: finding.severity,
    subject: finding.subject,
    message: (finding.control === 'CERT-05' ? finding.message.replace(/\b\d+ s (behind|ahead)\b/, '<n> s $1') : finding.message).replace(
      SHA256,
      '<sha256>',
    ),
    evidence: normalize(evidence),
    remediation: finding.remediation,
  };
}

function normalize(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(SHA256, '<sha256>');
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    return items;
  }
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

const findingKey = (f: Finding): string => `${f.control} ${f.subject.kind} ${f.subject.id}`;

describe('--source sim and --source sim-aws on the same fleet and clock', () => {
  let dir: string;
  let viaAws: { run: CliRun; report: Report; evidence: string };
  let inProcess: { run: CliRun; report: Report };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-aws-e2e-'));
    const store = join(dir, 'store');
    const common = ['--out', store, '--vms', String(VMS), '--seed', String(SEED)];
    // The run through the endpoints goes first, so its executions are as close to NOW as they can be.
    const awsRun = await cli(['run', '--source', 'sim-aws', '--run-id', 'via-aws', ...common], { now: NOW });
    const simRun = await cli(['run', '--source', 'sim', '--run-id', 'in-process', ...common], { now: NOW });
    expect(awsRun.stderr).not.toContain('fleet-audit:');
    expect(simRun.stderr).not.toContain('fleet-audit:');
    const read = (runId: string): Report => JSON.parse(readFileSync(join(store, runId, 'report.json'), 'utf8')) as Report;
    viaAws = { run: awsRun, report: read('via-aws'), evidence: join(store, 'via-aws', 'evidence') };
    inProcess = { run: simRun, report: read('in-process') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits the same way and prints the same summary, apart from the run id and source', () => {
    expect(viaAws.run.code).toBe(inProcess.run.code);
    expect(viaAws.run.stdout).toMatch(/^Fleet audit via-aws \(aws\)/);
    expect(inProcess.run.stdout).toMatch(/^Fleet audit in-process \(sim\)/);
    expect(viaAws.report.summary).toEqual(inProcess.report.summary);
    expect(viaAws.report.summary.vms).toBe(VMS);
  });

  it('gives the same findings: control, status, subject and message, evidence apart from what is minted or timed per run', () => {
    const aws = viaAws.report.findings;
    const sim = inProcess.report.findings;
    expect(aws.map(findingKey)).toEqual(sim.map(findingKey));
    expect(aws.map(comparable)).toEqual(sim.map(comparable));
    // Only the message that counts the clock skew in seconds may differ.
    const reworded = aws.filter((f, i) => f.message !== sim[i]!.message).map((f) => f.control);
    expect(reworded.filter((control) => control !== 'CERT-05')).toEqual([]);
  });

  it('gives the same VMs, each with the same WorkloadEntry', () => {
    expect(viaAws.report.vms).toEqual(inProcess.report.vms);
  });

  it('records the simulated target and the API calls per service and operation in the manifest', () => {
    const manifest = JSON.parse(readFileSync(join(viaAws.evidence, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      source: 'aws',
      targets: { simulated: { vms: VMS, seed: SEED }, through: 'aws-api' },
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
    });
    const calls = manifest.apiCalls as Record<string, number>;
    expect(calls).toMatchObject({
      'SSM.DescribeInstanceInformation': 1,
      'SSM.SendCommand': 1,
      'Kubernetes.list workloadentries': 1,
      'Kubernetes.list workloadgroups': 1,
      'Kubernetes.list pods': 1,
      'Kubernetes.create pods/portforward': 2,
    });
    expect(calls['SSM.ListCommandInvocations']).toBeGreaterThanOrEqual(1);
    // Every VM that ran prints more than ListCommandInvocations details hold (2,500 characters): its output is read from S3.
    const ran = readdirSync(join(viaAws.evidence, 'invocations')).filter(
      (f) => readInvocation(viaAws.evidence, f).StatusDetails === 'Success',
    ).length;
    expect(calls['S3.GetObject']).toBeGreaterThanOrEqual(ran);
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    expect(viaAws.run.stdout).toContain(`API calls: ${total} (`);
    expect(viaAws.run.stdout).toContain('SSM.SendCommand 1');
  });

  it('stores one invocation per VM with the output complete, and no cluster problems', () => {
    const files = readdirSync(join(viaAws.evidence, 'invocations'));
    expect(files).toHaveLength(VMS);
    for (const file of files) {
      const invocation = readInvocation(viaAws.evidence, file);
      if (invocation.StatusDetails !== 'Success') continue;
      expect(invocation.StandardOutputContent, file).toMatch(/^FLEET-AUDIT-DIAGNOSTICS v1 /);
      expect(invocation.StandardOutputContent, file).toMatch(/ DONE sections=\d+\n?$/);
    }
    expect(existsSync(join(viaAws.evidence, 'cluster', 'problems.json'))).toBe(false);
  });
});

describe('the AWS path against a throttling SSM endpoint', () => {
  let fleet: SimFleet;
  let cloud: SimCloud;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-audit-throttle-'));
    fleet = await buildSimFleetAsync({ vms: 60, seed: 4, now: NOW });
    cloud = await startSimCloud({ fleet, ssm: { throttle: { everyNth: 5 }, hiddenLookups: 1 } });
  });
  afterAll(async () => {
    await cloud?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands every VM over exactly once, and the report lists each once', async () => {
    const handedOver = new Map<string, number>();
    const inner = new LocalAuditStore(join(dir, 'store'));
    const counting: AuditStore = {
      openRun: async (runId) => {
        const run = await inner.openRun(runId);
        const evidence = run.evidence;
        return {
          ...run,
          evidence: {
            writeManifest: (m) => evidence.writeManifest(m),
            writeInventory: (i) => evidence.writeInventory(i),
            writeInvocation: (invocation) => {
              handedOver.set(invocation.InstanceId, (handedOver.get(invocation.InstanceId) ?? 0) + 1);
              return evidence.writeInvocation(invocation);
            },
            writeCluster: (c) => evidence.writeCluster(c),
            readBundle: () => evidence.readBundle(),
            readDigested: (digest) => evidence.readDigested(digest),
          },
        };
      },
    };
    const { result, apiCalls } = await auditThroughAws(
      {
        runId: 'throttled',
        region: cloud.region,
        credentials: cloud.credentials,
        target: { kind: 'instanceIds', instanceIds: fleet.vms.map((vm) => vm.instanceId) },
        bucket: cloud.bucket,
        document: 'FleetAudit-Diagnostics',
        ssmEndpoint: cloud.ssmEndpoint,
        s3Endpoint: cloud.s3Endpoint,
        kube: { kind: 'file', path: cloud.kubeconfigPath },
        targets: { test: 'throttled' },
        timing: SIM_AWS_TIMING,
      },
      {
        store: counting,
        clock: () => NOW,
        toolVersion: 'test',
      },
    );
    expect(cloud.endpoints.ssm.stats().throttled).toBeGreaterThan(0);
    expect([...handedOver.keys()].sort()).toEqual(fleet.vms.map((vm) => vm.instanceId).sort());
    expect([...handedOver.values()].every((n) => n === 1)).toBe(true);
    expect(result.report.vms.map((vm) => vm.instanceId).sort()).toEqual(fleet.vms.map((vm) => vm.instanceId).sort());
    // 60 instance ids go out in two SendCommand calls of at most 50.
    expect(apiCalls['SSM.SendCommand']).toBe(2);
    expect(
      result.report.findings
        .filter((f) => f.control === 'COLLECT-01' && f.status !== 'PASS')
        .map((f) => f.subject.id)
        .sort(),
    ).toEqual(
      fleet.vms
        .filter((vm) => vm.faults.includes('ssm-undeliverable'))
        .map((vm) => vm.instanceId)
        .sort(),
    );
  });
});

function readInvocation(evidence: string, file: string): Invocation {
  return JSON.parse(readFileSync(join(evidence, 'invocations', file), 'utf8')) as Invocation;
}
