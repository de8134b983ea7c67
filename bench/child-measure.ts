/**
 * Runs one measure in a child process of its own, so that its peak RSS is its own and not the harness's
 * (which holds the simulated fleets and endpoints), and hands its figures back on one marked stdout line.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RESULT_MARK = 'BENCH-RESULT ';
const PROJECT_NODE = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));

/** The project's Node (the one its tools run on); the running one when it is not installed. */
export function benchNode(): string {
  return existsSync(PROJECT_NODE) ? PROJECT_NODE : process.execPath;
}

/** The highest resident set size of this process so far, in MiB (resourceUsage reports KiB). */
export function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/**
 * Called last by a child: its figures, with its peak RSS at that moment. The child then exits, so that
 * sockets kept alive by its clients do not keep it (and the benchmark) waiting.
 */
export function reportToParent(figures: Record<string, unknown>): void {
  process.stdout.write(`\n${RESULT_MARK}${JSON.stringify({ ...figures, rssMiB: peakRssMiB() })}\n`, () => process.exit(0));
}

/** Runs `script` (a path under bench/) with the project's Node and returns what it reported. */
export async function runMeasured<T extends { rssMiB: number }>(script: string, args: readonly string[]): Promise<T> {
  const out = await runBenchScript(script, args, { captureStdout: true });
  const line = out.split('\n').findLast((l) => l.startsWith(RESULT_MARK));
  if (line === undefined) throw new Error(`${script} ended without reporting: ${out.slice(-2000)}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as T;
}

/** Runs `script` (a path under bench/) with the project's Node; rejects unless it exits with 0. */
export async function runBenchScript(script: string, args: readonly string[], options: { captureStdout?: boolean } = {}): Promise<string> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(benchNode(), [path, ...args], { stdio: ['ignore', options.captureStdout ? 'pipe' : 'inherit', 'inherit'] });
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`${script} exited with ${code}${out ? `: ${out.slice(-2000)}` : ''}`);
  return out;
}
