import { runCli } from '../../cli/program.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in process with captured output, a fixed clock and the given standard input. */
export async function cli(args: string[], options: { stdin?: string; now?: Date } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: async () => options.stdin ?? '',
    clock: () => options.now ?? new Date('2026-11-26T06:00:00.000Z'),
  });
  return { code, stdout, stderr };
}
