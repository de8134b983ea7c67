/**
 * Counts the AWS API calls one fleet audit makes through SSM Run Command, against the simulated SSM
 * endpoint and s3rver with small delays:
 *
 *   node_modules/.bin/node bench/ssm-calls.ts [--vms 1000] [--mode ids|tag|both] [--no-bucket]
 *                                             [--undeliverable 0.1] [--throttle-every N] [--output-bytes 30000]
 *                                             [--execution-ms 1500] [--spread-ms 3000]
 *
 * The script runs 1.5–4.5 s on the simulated VMs and the runner polls from 250 ms up to 1 s, so an audit
 * takes several polling rounds, as it does against SSM (where scripts run for tens of seconds and polls
 * back off from 2 s to 20 s).
 * Prints, per mode, the logical API calls per service and operation (what IAM and CloudTrail see), the
 * HTTP requests including SDK retries, the polling rounds, and what the endpoint saw.
 */
import { parseArgs } from 'node:util';
import { SsmFleetRunner } from '../lib/adapters/ssm-fleet-runner.ts';
import { buildSimFleet } from '../sim/fleet.ts';
import { startSimEndpoints } from '../sim/sim-endpoints.ts';
import type { SimSsmOutcome } from '../sim/ssm-api-server.ts';
import { totalCalls } from '../lib/shared/call-counts.ts';

const { values } = parseArgs({
  options: {
    vms: { type: 'string', default: '1000' },
    mode: { type: 'string', default: 'both' },
    'no-bucket': { type: 'boolean', default: false },
    undeliverable: { type: 'string', default: '0.1' },
    'throttle-every': { type: 'string' },
    'output-bytes': { type: 'string', default: '30000' },
    seed: { type: 'string', default: '1' },
    'execution-ms': { type: 'string', default: '1500' },
    'spread-ms': { type: 'string', default: '3000' },
  },
});

const vms = Number(values.vms);
const outputBytes = Number(values['output-bytes']);
const modes = values.mode === 'both' ? ['ids', 'tag'] : [values.mode];
if (!Number.isInteger(vms) || vms < 1) throw new Error(`--vms must be a whole number, got ${values.vms}`);
if (modes.some((m) => m !== 'ids' && m !== 'tag')) throw new Error(`--mode must be ids, tag or both, got ${values.mode}`);

const fleet = buildSimFleet({ vms, seed: Number(values.seed), now: new Date() });
const outcomes: Record<string, SimSsmOutcome> = {};
const offline = Math.round(vms * Number(values.undeliverable));
for (const vm of fleet.vms
  .filter((v) => v.faults.length === 0)
  .slice(0, Math.max(0, offline - fleet.vms.filter((v) => v.faults.includes('ssm-undeliverable')).length))) {
  outcomes[vm.instanceId] = 'Undeliverable';
}
// Real diagnostics carry config dumps and log tails: pad the simulated output to a realistic size.
const padLine = 'journal: padding to a realistic output size\n';
const sim = await startSimEndpoints({
  fleet,
  outcomes,
  renderOutput: (_vm, rendered) => {
    const missing = outputBytes - Buffer.byteLength(rendered);
    return missing <= 0 ? rendered : rendered.replace('BEGIN logs\n', `BEGIN logs\n${padLine.repeat(Math.ceil(missing / padLine.length))}`);
  },
  throttle: values['throttle-every'] ? { everyNth: Number(values['throttle-every']) } : undefined,
  delays: {
    deliveryMs: 200,
    executionMs: Number(values['execution-ms']),
    spreadMs: Number(values['spread-ms']),
    undeliverableMs: Number(values['execution-ms']) + Number(values['spread-ms']),
    outputUploadLagMs: 100,
  },
});

try {
  for (const mode of modes) {
    const before = sim.ssm.stats();
    let rounds = 0;
    const runner = new SsmFleetRunner({
      region: sim.region,
      credentials: sim.credentials,
      ssmEndpoint: sim.ssmEndpoint,
      s3Endpoint: sim.s3Endpoint,
      forcePathStyle: true,
      bucket: values['no-bucket'] ? undefined : sim.bucket,
      keyPrefix: values['no-bucket'] ? undefined : `runs/bench-${mode}/ssm-output`,
      documentName: 'FleetAudit-Diagnostics',
      comment: `fleet-audit bench ${mode}`,
      target:
        mode === 'tag' ? { kind: 'tag', key: 'istio-fleet' } : { kind: 'instanceIds', instanceIds: fleet.vms.map((vm) => vm.instanceId) },
      poll: { initialDelayMs: 250, maxDelayMs: 1000 },
      outputRetry: { initialDelayMs: 100, attempts: 8 },
      apiRetry: { initialDelayMs: 50 },
      onPoll: () => {
        rounds++;
      },
    });
    const started = Date.now();
    const byStatus: Record<string, number> = {};
    let invocations = 0;
    try {
      const inventory = await runner.listInstances();
      await runner.runDiagnostics(inventory.InstanceInformationList, async (invocation) => {
        invocations++;
        const key = `${invocation.Status}/${invocation.StatusDetails ?? ''}`;
        byStatus[key] = (byStatus[key] ?? 0) + 1;
      });
    } finally {
      runner.destroy();
    }
    const after = sim.ssm.stats();
    const calls = runner.callCounts();
    console.log(
      JSON.stringify(
        {
          mode,
          vms,
          bucket: !values['no-bucket'],
          outputBytes,
          invocations,
          byStatus,
          pollRounds: rounds,
          elapsedMs: Date.now() - started,
          apiCalls: sorted(calls),
          apiCallsTotal: totalCalls(calls),
          httpRequests: sorted(runner.httpRequestCounts()),
          throttledByEndpoint: after.throttled - before.throttled,
        },
        null,
        2,
      ),
    );
  }
} finally {
  await sim.close();
}

function sorted(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
