import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimComplianceStore } from './ssm-compliance-items.ts';
import { holdUnanswered, SimFaultPlan } from './fault-plan.ts';
import { ssmCommandHandlers } from './ssm/command-handlers.ts';
import { ssmNodeHandlers } from './ssm/node-handlers.ts';
import {
  DEFAULT_SIM_SSM_DELAYS,
  type SimSsmDelays,
  type SsmApiServer,
  type SsmApiServerOptions,
  type SsmApiServerStats,
} from './ssm/options.ts';
import { checkAuthorization, readBody, respond, respondError, SsmApiError, throttler } from './ssm/protocol.ts';
import type { SimCommand, SsmSimState } from './ssm/state.ts';

/**
 * An SSM endpoint speaking the JSON 1.1 protocol over a simulated fleet, so the real SDK client runs
 * unchanged against it: DescribeInstanceInformation, ListTagsForResource, SendCommand, ListCommands,
 * ListCommandInvocations and GetCommandInvocation, with SSM's limits, error shapes, eventual consistency
 * right after SendCommand, and command output uploaded to an S3-compatible endpoint under the agent's
 * key layout.
 *
 * This module wires the pieces under ssm/: the protocol (protocol.ts, request-schemas.ts), the commands and their
 * timeline (state.ts, agent-output.ts) and the handlers per operation (node-handlers.ts, command-handlers.ts).
 */

export {
  DEFAULT_SIM_SSM_DELAYS,
  SIM_SSM_OUTCOMES,
  type SimSsmDelays,
  type SimSsmOutcome,
  type SimThrottle,
  type SsmApiServer,
  type SsmApiServerOptions,
  type SsmApiServerStats,
} from './ssm/options.ts';
export {
  API_STDERR_LIMIT,
  API_STDOUT_LIMIT,
  API_TRUNCATION_SUFFIX,
  cutApiCopy,
  detailsOutput,
  DETAILS_OUTPUT_LIMIT,
} from './ssm/agent-output.ts';
export { terminalStatus } from './ssm/state.ts';

/** Starts the SSM endpoint on 127.0.0.1 with an ephemeral port. */
export async function startSsmApiServer(options: SsmApiServerOptions): Promise<SsmApiServer> {
  const fleet = options.fleet;
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const delays: SimSsmDelays = { ...DEFAULT_SIM_SSM_DELAYS, ...options.delays };
  const stepName = options.stepName ?? '0.awsrunShellScript';
  const outcomes = options.outcomes ?? {};
  const hiddenLookups = options.hiddenLookups ?? 0;
  const vmsById = new Map(fleet.vms.map((vm) => [vm.instanceId, vm]));
  for (const id of Object.keys(outcomes)) {
    if (!vmsById.has(id)) throw new Error(`outcome forced for ${id}, which is not a VM of the simulated fleet`);
  }
  const commands = new Map<string, SimCommand>();
  const stats: SsmApiServerStats = { requests: {}, throttled: 0, uploads: 0, uploadErrors: [] };
  const timers = new Set<NodeJS.Timeout>();
  const uploads = new Set<Promise<void>>();
  const throttle = throttler(options.throttle);
  const latency = options.latencyMs ?? 0;
  const tampered = new Set(options.tamperedOutputs ?? []);
  const faults = new SimFaultPlan(options.faults);

  const compliance = new SimComplianceStore();
  const state: SsmSimState = {
    fleet,
    options,
    region,
    account,
    delays,
    stepName,
    outcomes,
    hiddenLookups,
    vmsById,
    commands,
    stats,
    timers,
    uploads,
    tampered,
    compliance,
  };
  const handlers: Record<string, (body: unknown) => unknown> = { ...ssmNodeHandlers(state), ...ssmCommandHandlers(state) };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      respondError(res, new SsmApiError('InternalServerError', err instanceof Error ? err.message : String(err), { status: 500 }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    stats: () => structuredClone(stats),
    compliance,
    faults,
    async close(): Promise<void> {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...uploads]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
      respondError(res, new SsmApiError('UnknownOperationException', undefined, { status: 404, modeled: false }));
      return;
    }
    const authProblem = checkAuthorization(req);
    if (authProblem) {
      respondError(res, authProblem);
      return;
    }
    const target = /^AmazonSSM\.(?<op>[A-Za-z]+)$/.exec(String(req.headers['x-amz-target'] ?? ''));
    const op = target?.groups?.op;
    const handler = op === undefined ? undefined : handlers[op];
    if (op === undefined || handler === undefined) {
      respondError(res, new SsmApiError('UnknownOperationException', undefined, { modeled: false }));
      return;
    }
    stats.requests[op] = (stats.requests[op] ?? 0) + 1;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
      respondError(res, new SsmApiError('SerializationException', 'expected Content-Type application/x-amz-json-1.1', { modeled: false }));
      return;
    }
    let json: unknown;
    try {
      json = body.length === 0 ? {} : JSON.parse(body);
    } catch {
      respondError(res, new SsmApiError('SerializationException', 'the request body is not JSON', { modeled: false }));
      return;
    }
    if (throttle(op)) {
      stats.throttled++;
      respondError(res, new SsmApiError('ThrottlingException', 'Rate exceeded', { modeled: false }));
      return;
    }
    const fault = faults.take(op);
    if (fault === 'timeout') return holdUnanswered(res);
    if (fault !== undefined) {
      if (fault === 'throttle') stats.throttled++;
      respondError(
        res,
        fault === 'throttle'
          ? new SsmApiError('ThrottlingException', 'Rate exceeded', { modeled: false })
          : new SsmApiError('InternalServerError', 'injected server error', { status: 500 }),
      );
      return;
    }
    try {
      respond(res, 200, handler(json));
    } catch (err) {
      if (err instanceof SsmApiError) respondError(res, err);
      else throw err;
    }
  }
}
