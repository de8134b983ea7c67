import { Option } from 'commander';
import { isFailingAtOrAbove, SEVERITIES, type Report, type Severity } from '../lib/core/report.ts';

/** Exit codes: 0 done, 1 a finding failed at or above --fail-on, 2 bad usage or bad input. */
export const EXIT_OK = 0;
export const EXIT_FAILED_CONTROLS = 1;
export const EXIT_USAGE = 2;

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Standard input, for `--file -`. */
  readStdin: () => Promise<string>;
  clock: () => Date;
}

/** Handed to every command's register function. */
export interface CommandContext {
  io: CliIo;
  toolVersion: string;
  setExitCode: (code: number) => void;
}

/** A user-facing error: printed as `fleet-audit: <message>` with exit code 2, no stack trace. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/** The `--fail-on SEVERITY` option shared by the commands that produce a report. */
export function failOnOption(): Option {
  return new Option('--fail-on <severity>', 'exit 1 when a finding of this severity or above fails').choices(SEVERITIES as Severity[]);
}

/** The exit code for a report under `--fail-on`. */
export function exitCodeFor(report: Report, failOn: Severity | undefined): number {
  if (!failOn) return EXIT_OK;
  return report.findings.some((f) => isFailingAtOrAbove(f, failOn)) ? EXIT_FAILED_CONTROLS : EXIT_OK;
}
