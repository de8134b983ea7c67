import type { Command } from 'commander';
import { renderAllSummary } from '../../lib/core/proxy-config/all-summary.ts';
import { bootstrapSectionOf, parseBootstrapSummary, renderBootstrapSummary } from '../../lib/core/proxy-config/bootstrap-summary.ts';
import { parseEcdsDump, renderEcdsTable } from '../../lib/core/proxy-config/ecds-dump.ts';
import { isAtLeast, ISTIOCTL_VERSIONS, NEWEST_ISTIOCTL_VERSION } from '../../lib/core/istioctl-version.ts';
import { renderDumpAsGiven, renderIstioctlMessage } from '../../lib/core/proxy-config/istioctl-output.ts';
import { CliUsageError, type CliIo } from '../context.ts';
import {
  askedIstioctlVersion,
  outputOption,
  sameInEveryRelease,
  parseDumpJson,
  printable,
  readDump,
  resolveIstioctlVersion,
  type OutputFormat,
} from './proxy-config-input.ts';

export function registerBootstrapCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('bootstrap')
    .alias('b')
    .description('Print the bootstrap of an Envoy config dump as `istioctl proxy-config bootstrap` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump); - reads standard input')
    .addOption(
      outputOption("json (istioctl's default) or yaml (the BootstrapConfigDump, as istioctl writes it), or short (the versions)", 'json'),
    )
    .addOption(sameInEveryRelease('summary'))
    .action(async (opts: { file: string; output: OutputFormat; istioVersion?: string }) => {
      if (opts.istioVersion !== undefined) askedIstioctlVersion(opts.istioVersion);
      const { label, text } = await readDump(opts.file, io);
      const parsed = parseBootstrapSummary(text);
      if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
      io.stdout(
        opts.output === 'short'
          ? renderBootstrapSummary(parsed.value)
          : printable(label, renderIstioctlMessage(bootstrapSectionOf(text), opts.output)),
      );
    });
}

export function registerEcdsCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('ecds')
    .description('List the ECDS filters (WasmPlugins, Telemetry) of an Envoy config dump as `istioctl proxy-config ecds` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump); - reads standard input')
    .addOption(outputOption('short (the istioctl table), json or yaml (the EcdsConfigDump, as istioctl writes it)'))
    .addOption(sameInEveryRelease())
    .action(async (opts: { file: string; output: OutputFormat; istioVersion?: string }) => {
      if (opts.istioVersion !== undefined) askedIstioctlVersion(opts.istioVersion);
      const { label, text } = await readDump(opts.file, io);
      const parsed = parseEcdsDump(text);
      if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
      io.stdout(
        opts.output === 'short'
          ? renderEcdsTable(parsed.value.filters)
          : printable(label, renderIstioctlMessage(parsed.value.message, opts.output, 'protojson')),
      );
    });
}

export function registerAllCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('all')
    .alias('a')
    .description('Print every summary of an Envoy config dump as `istioctl proxy-config all` does')
    .requiredOption(
      '-f, --file <path>',
      'the Envoy config dump JSON (/config_dump, with ?include_eds for the endpoints); - reads standard input',
    )
    .option(
      '--istio-version <version>',
      `print the tables as istioctl <version> does (${ISTIOCTL_VERSIONS.join(', ')}; default: the proxy's ISTIO_VERSION from the dump's bootstrap, else ${NEWEST_ISTIOCTL_VERSION})`,
    )
    .addOption(outputOption('short (the summaries), json or yaml (the whole dump, as istioctl prints it)'))
    .option('--no-verbose', 'the short listener and route tables')
    .option('--with-headers', 'istioctl 1.29+: a `------ CLUSTER INFO ------` line before each part')
    .action(async (opts: { file: string; output: OutputFormat; istioVersion?: string; verbose: boolean; withHeaders?: boolean }) => {
      const { label, text } = await readDump(opts.file, io);
      if (opts.output !== 'short') {
        io.stdout(printable(label, renderDumpAsGiven(text, parseDumpJson(label, text), opts.output)));
        return;
      }
      const version = resolveIstioctlVersion(opts.istioVersion, text, io);
      if (opts.withHeaders && !isAtLeast(version, '1.29'))
        throw new CliUsageError(`--with-headers: istioctl ${version} has no such option (it came with 1.29)`);
      const summary = renderAllSummary(text, { version, now: io.clock(), verbose: opts.verbose, withHeaders: opts.withHeaders });
      if (!summary.ok) throw new CliUsageError(`${label} ${summary.reason}`);
      io.stdout(summary.value);
    });
}
