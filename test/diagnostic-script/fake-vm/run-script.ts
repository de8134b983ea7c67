/** Running the diagnostic script on the fake VM with one of the shells a VM may have. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { findOnPath } from './host-tools.ts';
import type { RunOptions, RunResult, ShellName } from './types.ts';

/** The diagnostic script as the service ships it. */
export const SCRIPT_PATH = new URL('../../../lib/diagnostic-script/fleet-audit-diagnostics.sh', import.meta.url).pathname;

/** The shells a VM may run the script with. */
export const SHELLS: readonly ShellName[] = ['dash', 'bash', 'busybox'];

/** How to start a shell; throws (so the test fails, never skips) when it is not installed. */
export function shellCommand(shell: ShellName): { file: string; args: string[] } {
  const file = findOnPath(shell);
  if (!file) throw new Error(`${shell} is not installed: apt-get install -y ${shell}`);
  return shell === 'busybox' ? { file, args: ['sh'] } : { file, args: [] };
}

/** Runs the script under `shell` with exactly `env`, within the limits and deadline `how` sets. */
export function runScript(shell: ShellName, env: Record<string, string>, cwd: string, how: RunOptions): Promise<RunResult> {
  const { file, args } = shellCommand(shell);
  const stdin = how.stdin ?? false;
  const argv = stdin ? args : [...args, SCRIPT_PATH];
  // Limits are set by a shell that then becomes the one under test.
  const limits = [
    how.fileSizeBlocks === undefined ? '' : `ulimit -f ${how.fileSizeBlocks} && `,
    how.memoryKb === undefined ? '' : `ulimit -v ${how.memoryKb} && `,
  ].join('');
  const [command, commandArgs] = limits ? ['/bin/sh', ['-c', `${limits}exec "$@"`, 'sh', file, ...argv]] : [file, argv];
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the fake Envoy answers from this same process. Detached, so that a
    // deadline kills the shell and everything it started.
    const child = spawn(command, commandArgs, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: how.deadlineMs !== undefined });
    if (stdin) child.stdin.end(readFileSync(SCRIPT_PATH));
    else child.stdin.end();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const deadline =
      how.deadlineMs === undefined
        ? undefined
        : setTimeout(() => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              // already gone
            }
          }, how.deadlineMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
