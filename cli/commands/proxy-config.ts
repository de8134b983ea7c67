import type { Command } from 'commander';
import { parseClustersDump } from '../../lib/core/proxy-config/clusters-dump.ts';
import { parseSecretsDump } from '../../lib/core/proxy-config/secrets-dump.ts';
import { istioctlClusterMessages, renderClustersTable } from '../../lib/core/proxy-config/clusters-table.ts';
import { NO_SECRETS_MESSAGE, renderSecretsTable } from '../../lib/core/proxy-config/secrets-table.ts';
import { ISTIOCTL_VERSIONS, NEWEST_ISTIOCTL_VERSION } from '../../lib/core/istioctl-version.ts';
import { renderIstioctlMessage, renderIstioctlMessages } from '../../lib/core/proxy-config/istioctl-output.ts';
import { CliUsageError, type CommandContext } from '../context.ts';
import {
  askedIstioctlVersion,
  tableOrMessages,
  portOption,
  printable,
  readDump,
  resolveIstioctlVersion,
  type OutputFormat,
} from './proxy-config-input.ts';
import { registerEdsCommand, registerEndpointsCommand } from './proxy-config-endpoints.ts';
import { registerListenersCommand, registerRoutesCommand } from './proxy-config-listeners-routes.ts';
import { registerAllCommand, registerBootstrapCommand, registerEcdsCommand } from './proxy-config-dump.ts';

interface ProxyConfigOptions {
  file: string;
  output: OutputFormat;
  warming?: boolean;
  istioVersion?: string;
}

interface ClusterOptions extends ProxyConfigOptions {
  fqdn?: string;
  port?: string;
  subset?: string;
  direction?: string;
}

/**
 * `fleet-audit proxy-config clusters|secret|listeners|routes|eds|bootstrap|all --file <config_dump.json | ->`:
 * istioctl's tables for an Envoy config dump, in the layout of one istioctl release, so the VM debugging
 * guide's `curl -s localhost:15000/config_dump | … --file -` works on a VM without istioctl.
 */
export function registerProxyConfigCommand(program: Command, { io }: CommandContext): void {
  const proxyConfig = program
    .command('proxy-config')
    .alias('pc')
    .description("Print istioctl's proxy-config tables for an Envoy config dump (no cluster access needed)");

  withDumpOptions(
    proxyConfig
      .command('clusters')
      .aliases(['cluster', 'c'])
      .description('List the clusters of an Envoy config dump as `istioctl proxy-config clusters` does'),
    'the dump is a ?resource=dynamic_warming_clusters answer',
  )
    .option('--fqdn <fqdn>', 'only clusters whose name contains this service FQDN')
    .option('--port <port>', 'only clusters whose name holds |<port>|')
    .option('--subset <subset>', 'only clusters whose name contains this subset')
    .option('--direction <direction>', 'only clusters whose name contains this direction (inbound, outbound)')
    .action(async (opts: ClusterOptions) => {
      const port = portOption(opts.port);
      const filter = { fqdn: opts.fqdn, port, subset: opts.subset, direction: opts.direction };
      const { label, text } = await readDump(opts.file, io);
      const resource = opts.warming ? 'dynamic_warming_clusters' : undefined;
      const parsed = parseClustersDump(text, { resource, keepMessages: opts.output !== 'short' });
      if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
      const { clusters } = parsed.value;
      if (opts.output !== 'short') {
        if (clusters.length === 0) throw new CliUsageError(`${label} holds no clusters`);
        io.stdout(printable(label, renderIstioctlMessages(istioctlClusterMessages(clusters, filter), opts.output)));
        return;
      }
      const warming = clusters.filter((c) => c.state === 'warming').length;
      if (warming === clusters.length) {
        const why = warming > 0 ? ` (only ${warming} warming, which the table leaves out: use -o json)` : '';
        throw new CliUsageError(`${label} holds no active or static clusters${why}`);
      }
      // istioctl 1.24–1.29 print the same cluster table: the option is only checked, so a wrong value is refused.
      if (opts.istioVersion !== undefined) askedIstioctlVersion(opts.istioVersion);
      io.stdout(renderClustersTable(clusters, { filter }));
      if (warming > 0) io.stderr(`fleet-audit: ${warming} warming cluster(s) not listed, as istioctl lists active and static ones only\n`);
    });

  withDumpOptions(
    proxyConfig
      .command('secret')
      .aliases(['secrets', 's'])
      .description('List the secrets of an Envoy config dump as `istioctl proxy-config secret` does'),
    'the dump is a ?resource=dynamic_warming_secrets answer',
  ).action(async (opts: ProxyConfigOptions) => {
    const { label, text } = await readDump(opts.file, io);
    const resource = opts.warming ? 'dynamic_warming_secrets' : undefined;
    const parsed = parseSecretsDump(text, { resource, keepMessage: opts.output !== 'short' });
    if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
    const { shape, secrets } = parsed.value;
    if (shape === 'empty') throw new CliUsageError(`${label} holds no secrets (no SecretsConfigDump and no DynamicSecret entries)`);
    const now = io.clock();
    if (opts.output !== 'short') io.stdout(printable(label, renderIstioctlMessage(parsed.value.message, opts.output)));
    else
      io.stdout(
        secrets.length === 0
          ? NO_SECRETS_MESSAGE
          : renderSecretsTable(secrets, now, { version: resolveIstioctlVersion(opts.istioVersion, text, io) }),
      );
  });

  registerEndpointsCommand(proxyConfig, io);
  registerEdsCommand(proxyConfig, io);
  registerRoutesCommand(proxyConfig, io);
  registerListenersCommand(proxyConfig, io);
  registerBootstrapCommand(proxyConfig, io);
  registerEcdsCommand(proxyConfig, io);
  registerAllCommand(proxyConfig, io);
}

function withDumpOptions(command: Command, warmingHelp: string): Command {
  return command
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump or a ?resource= answer); - reads standard input')
    .addOption(tableOrMessages('the Envoy messages'))
    .option('--warming', warmingHelp)
    .option(
      '--istio-version <version>',
      `print the table as istioctl <version> does (${ISTIOCTL_VERSIONS.join(', ')}; default: the proxy's ISTIO_VERSION from the dump's bootstrap, else ${NEWEST_ISTIOCTL_VERSION})`,
    );
}
