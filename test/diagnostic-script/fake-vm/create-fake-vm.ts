/**
 * Builds the fake VM: its root, its shims, links to the real tools it is allowed to have, and the
 * loopback server answering as Envoy's admin and the agent's readiness port.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyAnswer } from './envoy-admin.ts';
import { hashTree } from './hash-tree.ts';
import { findOnPath } from './host-tools.ts';
import { runScript } from './run-script.ts';
import { testPki } from './test-pki.ts';
import type { FakeVm, FakeVmOptions } from './types.ts';
import { REAL_TOOLS } from './vm-defaults.ts';
import { writeRoot } from './vm-root.ts';
import { writeShims } from './write-shims.ts';

/** Builds a fake VM for one scenario and starts its HTTP server on 127.0.0.1. */
export async function createFakeVm(options: FakeVmOptions = {}): Promise<FakeVm> {
  const pki = await testPki();
  const base = mkdtempSync(join(tmpdir(), 'fa-vm-'));
  const root = join(base, 'root');
  const shimDir = join(base, 'shims');
  const toolDir = join(base, 'tools');
  const tmp = join(base, 'tmp');
  const callsLog = join(base, 'calls.log');
  for (const d of [root, shimDir, toolDir, tmp]) mkdirSync(d, { recursive: true });
  writeFileSync(callsLog, '');
  const without = new Set(options.without ?? []);

  writeRoot(root, pki, options);
  writeShims(shimDir, base, callsLog, options, without);
  // These real tools are reached through a shim instead, which knows where the real one is.
  const shimmed = new Set([
    ...(options.clock === undefined && options.clockStep === undefined ? [] : ['date']),
    ...(options.fileOwner ? ['stat'] : []),
    ...(options.hang ?? []),
    ...(options.timeout ? ['timeout'] : []),
    ...(options.awk === 'busybox' ? ['awk'] : []),
  ]);
  for (const tool of REAL_TOOLS) {
    if (without.has(tool) || shimmed.has(tool)) continue;
    const real = findOnPath(tool);
    if (!real) throw new Error(`${tool} is not installed on the test machine`);
    symlinkSync(real, join(toolDir, tool));
  }

  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${url.pathname}${url.search}`);
    const answer = envoyAnswer(url, pki, options);
    res.writeHead(answer.status, { 'content-type': answer.type });
    res.end(answer.body);
  });
  const port = await listen(server);
  const closedPort = await unusedPort();
  const envoyPort = options.envoy === 'refused' ? closedPort : port;
  const readyPort = options.readiness === 'refused' ? closedPort : port;

  const env = {
    PATH: `${shimDir}:${toolDir}`,
    FLEET_AUDIT_ROOT: root,
    ENVOY_ADMIN_URL: `http://127.0.0.1:${envoyPort}`,
    AGENT_READY_URL: `http://127.0.0.1:${readyPort}/healthz/ready`,
    TMPDIR: tmp,
    HOME: tmp,
  };

  return {
    root,
    env,
    tmp,
    pki,
    requests,
    calls: () => readFileSync(callsLog, 'utf8').split('\n').filter(Boolean),
    run: (shell, how) => runScript(shell, { ...env, ...how?.env }, base, how ?? {}),
    hashRoot: () => hashTree(root),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** A loopback port nothing listens on: bound once, then released. */
async function unusedPort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
