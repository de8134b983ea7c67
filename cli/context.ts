import { InvalidArgumentError, Option } from 'commander';
import { judgeReport, type CiGate } from '../lib/core/ci-gate.ts';
import { REPORT_FORMATS, type ReportFormat } from '../lib/core/render/artifacts.ts';
import { SEVERITIES, type Report, type Severity } from '../lib/core/report.ts';
import { reportJsonText } from '../lib/core/report-json.ts';
import { UsageError } from '../lib/shared/errors.ts';

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
export class CliUsageError extends UsageError {
  override name = 'CliUsageError';
}

/** The `--fail-on SEVERITY` option shared by the commands that produce a report; any case is accepted. */
export function failOnOption(): Option {
  return new Option('--fail-on <severity>', `exit 1 when a finding of this severity or above fails (${SEVERITIES.join(', ')})`).argParser(
    (value: string): Severity => {
      const severity = SEVERITIES.find((s) => s === value.toUpperCase());
      if (!severity) throw new InvalidArgumentError(`expected one of ${SEVERITIES.join(', ')}`);
      return severity;
    },
  );
}

/** The `--fail-on-unknown` option: VMs that could not be checked fail the command too. */
export function failOnUnknownOption(): Option {
  return new Option('--fail-on-unknown', 'exit 1 when a VM could not be checked (UNKNOWN)');
}

/** Applies `--fail-on` / `--fail-on-unknown` to a report: the exit code, and one line on stderr saying why it is 1. */
export function gateExit(report: Report, gate: CiGate, io: CliIo): number {
  const verdict = judgeReport(report, gate);
  if (!verdict.failed) return EXIT_OK;
  io.stderr(`fleet-audit: ${verdict.reason}\n`);
  return EXIT_FAILED_CONTROLS;
}

/**
 * The `--format` option of the commands that write a report: which files, as a comma-separated list.
 * report.json is written whatever is asked, since every other file is made from it.
 */
export function reportFormatsOption(): Option {
  return new Option(
    '--format <formats>',
    `report files to write, comma-separated: ${REPORT_FORMATS.join(', ')} (default: all); report.json is always written, as the source of truth the others are made from`,
  ).argParser((value: string): ReportFormat[] => {
    const asked = value.split(',').map((f) => f.trim().toLowerCase());
    const unknown = asked.filter((f) => !(REPORT_FORMATS as readonly string[]).includes(f));
    if (asked.every((f) => f === '') || unknown.length > 0) {
      const what = unknown
        .filter((f) => f !== '')
        .map((f) => JSON.stringify(f))
        .join(', ');
      throw new InvalidArgumentError(`${what ? `${what}: ` : ''}expected a comma-separated list of ${REPORT_FORMATS.join(', ')}`);
    }
    return REPORT_FORMATS.filter((f) => asked.includes(f));
  });
}

/** `-o json`: print the command's result as JSON (the report's own schema, or the command's documented one). */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'json: print the result as JSON instead of the summary').choices(['json']);
}

/** The report as report.json holds it, for `-o json` and `--out -`. */
export function reportJson(report: Report): string {
  return reportJsonText(report);
}
