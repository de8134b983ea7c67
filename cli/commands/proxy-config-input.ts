import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import { errorCode, messageOf } from '../../lib/shared/error-code.ts';
import {
  chooseIstioctlVersion,
  ISTIOCTL_VERSIONS,
  NEWEST_ISTIOCTL_VERSION,
  type IstioctlVersion,
} from '../../lib/core/istioctl-version.ts';
import type { IstioctlDumpFormat } from '../../lib/core/proxy-config/istioctl-output.ts';
import { proxyIstioVersionOf } from '../../lib/core/proxy-config/proxy-istio-version.ts';
import type { Evidence } from '../../lib/core/result.ts';
import { CliUsageError, type CliIo } from '../context.ts';

// What the proxy-config commands share: reading the input, istioctl's -o and --istio-version, printing.

/** istioctl's `-o`: its table, or the Envoy messages behind it as jsonpb and sigs.k8s.io/yaml write them. */
export type OutputFormat = 'short' | IstioctlDumpFormat;
const OUTPUT_FORMATS = ['short', 'json', 'yaml'];

/** `-o`: istioctl's formats, described for one command. */
export function outputOption(description: string, byDefault: OutputFormat = 'short'): Option {
  return new Option('-o, --output <format>', description).choices(OUTPUT_FORMATS).default(byDefault);
}

/** `-o` of a command with a table: the table, or the Envoy messages behind it. */
export const tableOrMessages = (messages: string): Option =>
  outputOption(`short (the istioctl table), json or yaml (${messages}, as istioctl writes them)`);

/** `--istio-version` of a command whose output is the same in every supported istioctl release: checked only. */
export const sameInEveryRelease = (what = 'table'): Option =>
  new Option('--istio-version <version>', `istioctl's release (${ISTIOCTL_VERSIONS.join(', ')}: they print the same ${what})`);

export function portOption(text: string | undefined): number {
  const port = text === undefined ? 0 : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`--port ${text}: expected a port number`);
  return port;
}

export function askedIstioctlVersion(asked: string): IstioctlVersion {
  const choice = chooseIstioctlVersion(asked);
  if (!choice || choice.note)
    throw new CliUsageError(
      `--istio-version ${asked}: expected one of ${ISTIOCTL_VERSIONS.join(', ')} (a patch release such as 1.26.3 is accepted)`,
    );
  return choice.version;
}

/** The layout asked for, else the one of the proxy's release, else the newest; a clamped release is said on stderr. */
export function resolveIstioctlVersion(asked: string | undefined, text: string, io: CliIo): IstioctlVersion {
  if (asked !== undefined) return askedIstioctlVersion(asked);
  const proxyVersion = proxyIstioVersionOf(text);
  const choice = proxyVersion === undefined ? undefined : chooseIstioctlVersion(proxyVersion);
  if (choice?.note) io.stderr(`fleet-audit: ${choice.note} (the proxy's ISTIO_VERSION; --istio-version chooses another)\n`);
  return choice?.version ?? NEWEST_ISTIOCTL_VERSION;
}

export function printable(label: string, rendered: Evidence<string>): string {
  if (!rendered.ok) throw new CliUsageError(`${label} ${rendered.reason}`);
  return rendered.value;
}

// istioctl prints the file it read; it must at least be JSON.
export function parseDumpJson(label: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliUsageError(`${label} is not JSON, so not an Envoy config dump`);
  }
}

export async function readDump(file: string, io: CliIo): Promise<{ label: string; text: string }> {
  if (file === '-') return { label: 'standard input', text: await io.readStdin() };
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CliUsageError(`${file}: ${describeReadError(error)}`);
  }
  try {
    return { label: file, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    throw new CliUsageError(`${file} is not text (binary data, not a config dump)`);
  }
}

function describeReadError(error: unknown): string {
  const code = errorCode(error);
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not a config dump file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return messageOf(error);
}
