import type { Command } from 'commander';
import { composeLocalApiSide, startApiServer } from '../../lib/compose/local-side.ts';
import type { AuditTarget, HttpApiDeps, StartRunResult } from '../../lib/http-api/deps.ts';
import { createHttpApiHandler, ROUTES } from '../../lib/http-api/handler.ts';
import { buildSimFleetAsync, DEFAULT_SIM_SEED, DEFAULT_SIM_VMS, type SimFleet } from '../../sim/fleet.ts';
import { SimFleetRunner, SimMeshReader } from '../../sim/sim-sources.ts';
import { startBackgroundAudit } from '../../lib/use-cases/background-audit.ts';
import { CliUsageError, type CliIo, type CommandContext } from '../context.ts';
import { nonNegativeInt, positiveInt } from './run-flags.ts';
import { newRunId } from '../../lib/shared/identifiers.ts';

interface ServeOptions {
  port: number;
  store: string;
  vms: number;
  seed: number;
}

/** A simulated audit must finish well within this, or the registry counts it overdue. */
const LOCAL_DEADLINE_MS = 10 * 60_000;

/**
 * `fleet-audit serve`: the HTTP API of the deployment on loopback, over the local store and the simulated
 * fleet, through the same handler Lambda runs. A POST starts an audit that completes in the background.
 */
export function registerServeCommand(program: Command, { io, toolVersion }: CommandContext): void {
  program
    .command('serve')
    .description('Serve the HTTP API on loopback over the local store, auditing the simulated fleet on POST /audits')
    .option('--port <port>', 'the TCP port on 127.0.0.1 (0 picks a free one)', portNumber, 8080)
    .option('--store <dir>', 'the local audit store', 'audit-store')
    .option('--vms <n>', 'size of the simulated fleet', positiveInt, DEFAULT_SIM_VMS)
    .option('--seed <s>', 'seed of the simulated fleet', nonNegativeInt, DEFAULT_SIM_SEED)
    .action(async (opts: ServeOptions) => {
      const server = await startLocalApi(opts, io, toolVersion);
      io.stdout(`fleet-audit serve: the HTTP API on ${server.url} (store ${opts.store}); Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}

/** Starts the local API; tests call it directly. `close` waits for the audits still running. */
export async function startLocalApi(
  opts: ServeOptions,
  io: Pick<CliIo, 'stderr' | 'clock'>,
  toolVersion: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const { registry, store, reports, history, idempotency } = composeLocalApiSide(opts.store);
  const running = new Set<Promise<void>>();
  const deps: HttpApiDeps = {
    registry,
    reports,
    history,
    idempotency,
    newRunId: () => newRunId(io.clock(), 'api'),
    maxBodyBytes: Number.POSITIVE_INFINITY,
    logger: {
      info: () => undefined,
      appendKeys: () => undefined,
      resetKeys: () => undefined,
      error: (message, extra) => io.stderr(`fleet-audit serve: ${message} ${JSON.stringify(extra ?? {})}\n`),
    },
    close: () => undefined,
    async startRun(runId: string, target: AuditTarget): Promise<StartRunResult> {
      const whole = await buildSimFleetAsync({ vms: opts.vms, seed: opts.seed, now: io.clock() });
      const fleet = targetFleet(whole, target);
      if ('refused' in fleet) return { kind: 'refused', detail: fleet.refused };
      const { started, done } = await startBackgroundAudit(
        { registry, store, clock: io.clock },
        {
          runId,
          fleet: new SimFleetRunner(fleet),
          mesh: new SimMeshReader(fleet),
          source: 'sim',
          toolVersion,
          targets: { simulated: { vms: opts.vms, seed: opts.seed }, target },
          deadlineMs: LOCAL_DEADLINE_MS,
        },
      );
      if (!started) return { kind: 'duplicate' };
      const tracked = done.finally(() => running.delete(tracked));
      running.add(tracked);
      return { kind: 'started', status: 'COLLECTING' };
    },
  };
  const server = await startApiServer({ routes: ROUTES, handler: createHttpApiHandler(async () => deps), port: opts.port });
  return {
    url: server.url,
    async close() {
      await server.close();
      await Promise.all([...running]);
    },
  };
}

/** The simulated VMs an audit reaches; the mesh is narrowed with them, as a real audit of those VMs would see it. */
function targetFleet(fleet: SimFleet, target: AuditTarget): SimFleet | { refused: string } {
  const keep = (vms: SimFleet['vms']): SimFleet | { refused: string } =>
    vms.length === 0 ? { refused: 'no simulated VM matches the target' } : { ...fleet, vms };
  switch (target.kind) {
    case 'default':
      return fleet;
    case 'instanceIds': {
      const wanted = new Set(target.instanceIds);
      return keep(fleet.vms.filter((vm) => wanted.has(vm.instanceId)));
    }
    case 'namespace':
      return keep(fleet.vms.filter((vm) => vm.namespace === target.namespace));
    case 'tag':
      // The simulated nodes carry the tag istio-fleet=<namespace>.
      return target.key === 'istio-fleet'
        ? keep(fleet.vms.filter((vm) => target.values.includes(vm.namespace)))
        : { refused: 'the simulated nodes are tagged istio-fleet=<namespace> only' };
  }
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65535)
    throw new CliUsageError(`--port must be a TCP port (0 to 65535), got ${JSON.stringify(value)}`);
  return port;
}
