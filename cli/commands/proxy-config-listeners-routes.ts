import type { Command } from 'commander';
import { parseListenersDump } from '../../lib/core/proxy-config/listeners-dump.ts';
import { istioctlListenerMessages, renderListenersTable } from '../../lib/core/proxy-config/listeners-table.ts';
import { parseRoutesDump } from '../../lib/core/proxy-config/routes-dump.ts';
import { istioctlRouteMessages, renderRoutesTable } from '../../lib/core/proxy-config/routes-table.ts';
import { renderIstioctlMessages } from '../../lib/core/proxy-config/istioctl-output.ts';
import { CliUsageError, type CliIo } from '../context.ts';
import {
  askedIstioctlVersion,
  tableOrMessages,
  sameInEveryRelease,
  portOption,
  printable,
  readDump,
  type OutputFormat,
} from './proxy-config-input.ts';

interface RouteOptions {
  file: string;
  output: OutputFormat;
  istioVersion?: string;
  name?: string;
  verbose: boolean;
}

export function registerRoutesCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('routes')
    .aliases(['route', 'r'])
    .description('List the routes of an Envoy config dump as `istioctl proxy-config routes` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump); - reads standard input')
    .addOption(tableOrMessages('the RouteConfigurations'))
    .addOption(sameInEveryRelease())
    .option('--name <name>', 'only the route configuration of this name')
    .option('--no-verbose', 'one row per route configuration (NAME, VIRTUAL HOSTS) instead of one per route')
    .action(async (opts: RouteOptions) => {
      if (opts.istioVersion !== undefined) askedIstioctlVersion(opts.istioVersion);
      const { label, text } = await readDump(opts.file, io);
      const parsed = parseRoutesDump(text);
      if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
      // istioctl refuses a dump without a single route configuration.
      if (parsed.value.length === 0) throw new CliUsageError(`${label} holds no routes`);
      const options = { name: opts.name, verbose: opts.verbose };
      io.stdout(
        opts.output === 'short'
          ? renderRoutesTable(parsed.value, options)
          : printable(label, renderIstioctlMessages(istioctlRouteMessages(parsed.value, options), opts.output)),
      );
    });
}

interface ListenerOptions {
  file: string;
  output: OutputFormat;
  istioVersion?: string;
  address?: string;
  port?: string;
  type?: string;
  verbose: boolean;
}

export function registerListenersCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('listeners')
    .aliases(['listener', 'l'])
    .description('List the listeners of an Envoy config dump as `istioctl proxy-config listeners` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump); - reads standard input')
    .addOption(tableOrMessages('the Listeners'))
    .addOption(sameInEveryRelease())
    .option('--address <address>', 'only listeners on this address, case-insensitive')
    .option('--port <port>', 'only listeners on this port')
    .option('--type <type>', 'only listeners of this type (HTTP, TCP, HTTP+TCP, UNKNOWN), case-insensitive')
    .option('--no-verbose', 'one row per listener (ADDRESSES, PORT, TYPE) instead of one per filter chain')
    .action(async (opts: ListenerOptions) => {
      if (opts.istioVersion !== undefined) askedIstioctlVersion(opts.istioVersion);
      const filter = { address: opts.address, port: portOption(opts.port), type: opts.type };
      const { label, text } = await readDump(opts.file, io);
      const parsed = parseListenersDump(text);
      if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
      // istioctl refuses a dump without a single listener.
      if (parsed.value.length === 0) throw new CliUsageError(`${label} holds no listeners`);
      io.stdout(
        opts.output === 'short'
          ? renderListenersTable(parsed.value, { filter, verbose: opts.verbose })
          : printable(label, renderIstioctlMessages(istioctlListenerMessages(parsed.value, filter), opts.output)),
      );
    });
}
