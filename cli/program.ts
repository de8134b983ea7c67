import { Command } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { BundleError } from '../lib/compose/local-side.ts';
import { registerAnalyzeCommand } from './commands/analyze.ts';
import { registerComplianceCommand } from './commands/compliance.ts';
import { registerControlsCommand } from './commands/controls.ts';
import { registerProxyConfigCommand } from './commands/proxy-config.ts';
import { registerProxyStatusCommand } from './commands/proxy-status.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerScriptCommand } from './commands/script.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerShowCommand } from './commands/show.ts';
import { CliUsageError, EXIT_OK, EXIT_USAGE, type CliIo, type CommandContext } from './context.ts';

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  clock: () => new Date(),
};

/** Runs the `fleet-audit` command line and resolves to its exit code. */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command('fleet-audit')
    .description('Audit a fleet of Istio VMs: run the diagnostic script on every VM, cross-check the mesh, report.')
    .version(packageJson.version)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const context: CommandContext = { io, toolVersion: packageJson.version, setExitCode: (code) => (exitCode = code) };
  registerRunCommand(program, context);
  registerAnalyzeCommand(program, context);
  registerProxyConfigCommand(program, context);
  registerProxyStatusCommand(program, context);
  registerScriptCommand(program, context);
  registerComplianceCommand(program, context);
  registerShowCommand(program, context);
  registerControlsCommand(program, context);
  registerServeCommand(program, context);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (isCommanderExit(error)) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (error instanceof BundleError || error instanceof CliUsageError) {
      io.stderr(`fleet-audit: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

function isCommanderExit(error: unknown): error is { exitCode: number; code: string } {
  return (
    typeof error === 'object' && error !== null && 'code' in error && String((error as { code: unknown }).code).startsWith('commander.')
  );
}
