import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { parseClustersDump } from '../../lib/core/proxy-config/clusters-dump.ts';
import { parseClusterStatuses } from '../../lib/core/proxy-config/cluster-statuses.ts';
import { istioctlClusterStatusMessages, renderClusterStatusesTable } from '../../lib/core/proxy-config/cluster-statuses-table.ts';
import { parseEndpointsDump } from '../../lib/core/proxy-config/endpoints-dump.ts';
import { istioctlAssignmentMessages, renderEndpointsTable } from '../../lib/core/proxy-config/endpoints-table.ts';
import { renderAllSummary } from '../../lib/core/proxy-config/all-summary.ts';
import { bootstrapSectionOf, parseBootstrapSummary, renderBootstrapSummary } from '../../lib/core/proxy-config/bootstrap-summary.ts';
import { parseEcdsDump, renderEcdsTable } from '../../lib/core/proxy-config/ecds-dump.ts';
import { parseListenersDump } from '../../lib/core/proxy-config/listeners-dump.ts';
import { istioctlListenerMessages, renderListenersTable } from '../../lib/core/proxy-config/listeners-table.ts';
import { parseRoutesDump } from '../../lib/core/proxy-config/routes-dump.ts';
import { istioctlRouteMessages, renderRoutesTable } from '../../lib/core/proxy-config/routes-table.ts';
import { parseSecretsDump, secretsMessageOf } from '../../lib/core/proxy-config/secrets-dump.ts';
import { istioctlClusterMessages, renderClustersTable } from '../../lib/core/proxy-config/clusters-table.ts';
import { NO_SECRETS_MESSAGE, renderSecretsTable } from '../../lib/core/proxy-config/secrets-table.ts';
import {
  chooseIstioctlVersion,
  isAtLeast,
  ISTIOCTL_VERSIONS,
  NEWEST_ISTIOCTL_VERSION,
  type IstioctlVersion,
} from '../../lib/core/istioctl-version.ts';
import {
  renderDumpAsGiven,
  renderIstioctlEcds,
  renderIstioctlMessage,
  renderIstioctlMessages,
  type IstioctlDumpFormat,
} from '../../lib/core/proxy-config/istioctl-output.ts';
import { proxyIstioVersionOf } from '../../lib/core/proxy-config/proxy-istio-version.ts';
import type { Evidence } from '../../lib/core/result.ts';
import { CliUsageError, type CliIo, type CommandContext } from '../context.ts';

/** istioctl's `-o`: its table, or the Envoy messages behind it as jsonpb and sigs.k8s.io/yaml write them. */
type OutputFormat = 'short' | IstioctlDumpFormat;
const OUTPUT_FORMATS = ['short', 'json', 'yaml'];

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
    const parsed = parseSecretsDump(text, resourceOf(opts));
    if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
    const { shape, secrets } = parsed.value;
    if (shape === 'empty') throw new CliUsageError(`${label} holds no secrets (no SecretsConfigDump and no DynamicSecret entries)`);
    const now = io.clock();
    if (opts.output !== 'short') io.stdout(printable(label, renderIstioctlMessage(secretsMessageOf(text, resourceOf(opts)), opts.output)));
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

interface EndpointOptions {
  file: string;
  output: OutputFormat;
  istioVersion?: string;
  address?: string;
  port?: string;
  cluster?: string;
  status?: string;
}

function registerEndpointsCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('endpoints')
    .aliases(['endpoint', 'ep'])
    .description("List the endpoints of Envoy's /clusters?format=json answer as `istioctl proxy-config endpoints` does")
    .requiredOption('-f, --file <path>', "Envoy's /clusters?format=json answer; - reads standard input")
    .addOption(
      new Option('-o, --output <format>', 'short (the istioctl table), json or yaml (the ClusterStatus messages, as istioctl writes them)')
        .choices(OUTPUT_FORMATS)
        .default('short'),
    )
    .option('--istio-version <version>', `istioctl's release (${ISTIOCTL_VERSIONS.join(', ')}: they print the same table)`)
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

function registerEdsCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('eds')
    .description('List the endpoints of an Envoy config dump taken with ?include_eds, as `istioctl proxy-config eds` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump?include_eds); - reads standard input')
    .addOption(
      new Option('-o, --output <format>', 'short (the istioctl table), json or yaml (the ClusterLoadAssignments, as istioctl writes them)')
        .choices(OUTPUT_FORMATS)
        .default('short'),
    )
    .option('--istio-version <version>', `istioctl's release (${ISTIOCTL_VERSIONS.join(', ')}: they print the same table)`)
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

interface RouteOptions {
  file: string;
  output: OutputFormat;
  istioVersion?: string;
  name?: string;
  verbose: boolean;
}

function registerRoutesCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('routes')
    .aliases(['route', 'r'])
    .description('List the routes of an Envoy config dump as `istioctl proxy-config routes` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump); - reads standard input')
    .addOption(
      new Option('-o, --output <format>', 'short (the istioctl table), json or yaml (the RouteConfigurations, as istioctl writes them)')
        .choices(OUTPUT_FORMATS)
        .default('short'),
    )
    .option('--istio-version <version>', `istioctl's release (${ISTIOCTL_VERSIONS.join(', ')}: they print the same table)`)
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

function portOption(text: string | undefined): number {
  const port = text === undefined ? 0 : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`--port ${text}: expected a port number`);
  return port;
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

function registerListenersCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('listeners')
    .aliases(['listener', 'l'])
    .description('List the listeners of an Envoy config dump as `istioctl proxy-config listeners` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump); - reads standard input')
    .addOption(
      new Option('-o, --output <format>', 'short (the istioctl table), json or yaml (the Listeners, as istioctl writes them)')
        .choices(OUTPUT_FORMATS)
        .default('short'),
    )
    .option('--istio-version <version>', `istioctl's release (${ISTIOCTL_VERSIONS.join(', ')}: they print the same table)`)
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

function registerBootstrapCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('bootstrap')
    .alias('b')
    .description('Print the bootstrap of an Envoy config dump as `istioctl proxy-config bootstrap` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump); - reads standard input')
    .addOption(
      new Option(
        '-o, --output <format>',
        "json (istioctl's default) or yaml (the BootstrapConfigDump, as istioctl writes it), or short (the versions)",
      )
        .choices(OUTPUT_FORMATS)
        .default('json'),
    )
    .option('--istio-version <version>', `istioctl's release (${ISTIOCTL_VERSIONS.join(', ')}: they print the same summary)`)
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

function registerEcdsCommand(proxyConfig: Command, io: CliIo): void {
  proxyConfig
    .command('ecds')
    .description('List the ECDS filters (WasmPlugins, Telemetry) of an Envoy config dump as `istioctl proxy-config ecds` does')
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump); - reads standard input')
    .addOption(
      new Option('-o, --output <format>', 'short (the istioctl table), json or yaml (the EcdsConfigDump, as istioctl writes it)')
        .choices(OUTPUT_FORMATS)
        .default('short'),
    )
    .option('--istio-version <version>', `istioctl's release (${ISTIOCTL_VERSIONS.join(', ')}: they print the same table)`)
    .action(async (opts: { file: string; output: OutputFormat; istioVersion?: string }) => {
      if (opts.istioVersion !== undefined) askedIstioctlVersion(opts.istioVersion);
      const { label, text } = await readDump(opts.file, io);
      const parsed = parseEcdsDump(text);
      if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
      io.stdout(
        opts.output === 'short'
          ? renderEcdsTable(parsed.value.filters)
          : printable(label, renderIstioctlEcds(parsed.value.message, opts.output)),
      );
    });
}

function registerAllCommand(proxyConfig: Command, io: CliIo): void {
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
    .addOption(
      new Option('-o, --output <format>', 'short (the summaries), json or yaml (the whole dump, as istioctl prints it)')
        .choices(OUTPUT_FORMATS)
        .default('short'),
    )
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

function askedIstioctlVersion(asked: string): IstioctlVersion {
  const choice = chooseIstioctlVersion(asked);
  if (!choice || choice.note)
    throw new CliUsageError(
      `--istio-version ${asked}: expected one of ${ISTIOCTL_VERSIONS.join(', ')} (a patch release such as 1.26.3 is accepted)`,
    );
  return choice.version;
}

function withDumpOptions(command: Command, warmingHelp: string): Command {
  return command
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump or a ?resource= answer); - reads standard input')
    .addOption(
      new Option('-o, --output <format>', 'short (the istioctl table), json or yaml (the Envoy messages, as istioctl writes them)')
        .choices(OUTPUT_FORMATS)
        .default('short'),
    )
    .option('--warming', warmingHelp)
    .option(
      '--istio-version <version>',
      `print the table as istioctl <version> does (${ISTIOCTL_VERSIONS.join(', ')}; default: the proxy's ISTIO_VERSION from the dump's bootstrap, else ${NEWEST_ISTIOCTL_VERSION})`,
    );
}

/** The layout asked for, else the one of the proxy's release, else the newest; a clamped release is said on stderr. */
function resolveIstioctlVersion(asked: string | undefined, text: string, io: CliIo): IstioctlVersion {
  if (asked !== undefined) return askedIstioctlVersion(asked);
  const proxyVersion = proxyIstioVersionOf(text);
  const choice = proxyVersion === undefined ? undefined : chooseIstioctlVersion(proxyVersion);
  if (choice?.note) io.stderr(`fleet-audit: ${choice.note} (the proxy's ISTIO_VERSION; --istio-version chooses another)\n`);
  return choice?.version ?? NEWEST_ISTIOCTL_VERSION;
}

function printable(label: string, rendered: Evidence<string>): string {
  if (!rendered.ok) throw new CliUsageError(`${label} ${rendered.reason}`);
  return rendered.value;
}

const resourceOf = (opts: ProxyConfigOptions): { resource?: 'dynamic_warming_secrets' } =>
  opts.warming ? { resource: 'dynamic_warming_secrets' } : {};

// istioctl prints the file it read; it must at least be JSON.
function parseDumpJson(label: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliUsageError(`${label} is not JSON, so not an Envoy config dump`);
  }
}

async function readDump(file: string, io: CliIo): Promise<{ label: string; text: string }> {
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
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not a config dump file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
