import type { Command } from 'commander';
import { parseClusterStatuses } from '../../lib/core/proxy-config/cluster-statuses.ts';
import { istioctlClusterStatusMessages, renderClusterStatusesTable } from '../../lib/core/proxy-config/cluster-statuses-table.ts';
import { parseEndpointsDump } from '../../lib/core/proxy-config/endpoints-dump.ts';
import { istioctlAssignmentMessages, renderEndpointsTable } from '../../lib/core/proxy-config/endpoints-table.ts';
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

interface EndpointOptions {
  file: string;
  output: OutputFormat;
  istioVersion?: string;
  address?: string;
  port?: string;
  cluster?: string;
  status?: string;
}

export function registerEndpointsCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('endpoints')
    .aliases(['endpoint', 'ep'])
    .description("List the endpoints of Envoy's /clusters?format=json answer as `istioctl proxy-config endpoints` does")
    .requiredOption('-f, --file <path>', "Envoy's /clusters?format=json answer; - reads standard input")
    .addOption(tableOrMessages('the ClusterStatus messages'))
    .addOption(sameInEveryRelease())
    .option('--address <address>', 'only endpoints with this address (without the port), case-insensitive')
    .option('--port <port>', 'only endpoints on this port')
    .option('--cluster <name>', 'only endpoints of this cluster, case-insensitive')
    .option('--status <status>', 'only endpoints of this health status (HEALTHY, UNHEALTHY, …), case-insensitive')
    .action(async (opts: EndpointOptions) => {
      if (opts.istioVersion !== undefined) askedIstioctlVersion(opts.istioVersion);
      const filter = { address: opts.address, port: portOption(opts.port), cluster: opts.cluster, status: opts.status };
      const { label, text } = await readDump(opts.file, io);
      const parsed = parseClusterStatuses(text);
      if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
      io.stdout(
        opts.output === 'short'
          ? renderClusterStatusesTable(parsed.value, filter)
          : printable(label, renderIstioctlMessages(istioctlClusterStatusMessages(parsed.value, filter), opts.output)),
      );
    });
}

export function registerEdsCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('eds')
    .description('List the endpoints of an Envoy config dump taken with ?include_eds, as `istioctl proxy-config eds` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump?include_eds); - reads standard input')
    .addOption(tableOrMessages('the ClusterLoadAssignments'))
    .addOption(sameInEveryRelease())
    .option('--address <address>', 'only endpoints with this address (ip:port, a pipe path), case-insensitive')
    .option('--port <port>', 'only endpoints on this port')
    .option('--cluster <name>', 'only endpoints of this cluster, case-insensitive')
    .option('--status <status>', 'only endpoints of this health status (HEALTHY, UNHEALTHY, …), case-insensitive')
    .action(async (opts: EndpointOptions) => {
      if (opts.istioVersion !== undefined) askedIstioctlVersion(opts.istioVersion);
      const port = portOption(opts.port);
      const { label, text } = await readDump(opts.file, io);
      const parsed = parseEndpointsDump(text);
      if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
      const filter = { address: opts.address, port, cluster: opts.cluster, status: opts.status };
      io.stdout(
        opts.output === 'short'
          ? renderEndpointsTable(parsed.value, filter)
          : printable(label, renderIstioctlMessages(istioctlAssignmentMessages(parsed.value, filter), opts.output)),
      );
    });
}
