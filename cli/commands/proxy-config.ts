import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { parseClustersDump } from '../../lib/core/proxy-config/clusters-dump.ts';
import { parseSecretsDump } from '../../lib/core/proxy-config/secrets-dump.ts';
import { renderClustersJson, renderClustersTable } from '../../lib/core/proxy-config/clusters-table.ts';
import { NO_SECRETS_MESSAGE, renderSecretsJson, renderSecretsTable } from '../../lib/core/proxy-config/secrets-table.ts';
import { CliUsageError, type CliIo, type CommandContext } from '../context.ts';

interface ProxyConfigOptions {
  file: string;
  output: 'short' | 'json';
  warming?: boolean;
}

/**
 * `fleet-audit proxy-config clusters|secret --file <config_dump.json | ->`: istioctl's tables for an Envoy
 * config dump, so the VM debugging guide's `curl -s localhost:15000/config_dump | … --file -` works on a
 * VM without istioctl.
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
  ).action(async (opts: ProxyConfigOptions) => {
    const { label, text } = await readDump(opts.file, io);
    const parsed = parseClustersDump(text, opts.warming ? { resource: 'dynamic_warming_clusters' } : {});
    if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
    const { clusters } = parsed.value;
    if (opts.output === 'json') {
      if (clusters.length === 0) throw new CliUsageError(`${label} holds no clusters`);
      io.stdout(renderClustersJson(clusters));
      return;
    }
    const warming = clusters.filter((c) => c.state === 'warming').length;
    if (warming === clusters.length) {
      const why = warming > 0 ? ` (only ${warming} warming, which the table leaves out: use -o json)` : '';
      throw new CliUsageError(`${label} holds no active or static clusters${why}`);
    }
    io.stdout(renderClustersTable(clusters));
    if (warming > 0) io.stderr(`fleet-audit: ${warming} warming cluster(s) not listed, as istioctl lists active and static ones only (-o json shows them)\n`);
  });

  withDumpOptions(
    proxyConfig
      .command('secret')
      .aliases(['secrets', 's'])
      .description('List the secrets of an Envoy config dump as `istioctl proxy-config secret` does'),
    'the dump is a ?resource=dynamic_warming_secrets answer',
  ).action(async (opts: ProxyConfigOptions) => {
    const { label, text } = await readDump(opts.file, io);
    const parsed = parseSecretsDump(text, opts.warming ? { resource: 'dynamic_warming_secrets' } : {});
    if (!parsed.ok) throw new CliUsageError(`${label} ${parsed.reason}`);
    const { shape, secrets } = parsed.value;
    if (shape === 'empty') throw new CliUsageError(`${label} holds no secrets (no SecretsConfigDump and no DynamicSecret entries)`);
    const now = io.clock();
    if (opts.output === 'json') io.stdout(renderSecretsJson(secrets, now));
    else io.stdout(secrets.length === 0 ? NO_SECRETS_MESSAGE : renderSecretsTable(secrets, now));
  });
}

function withDumpOptions(command: Command, warmingHelp: string): Command {
  return command
    .requiredOption('-f, --file <path>', 'the Envoy config dump JSON (/config_dump or a ?resource= answer); - reads standard input')
    .addOption(new Option('-o, --output <format>', 'short (the istioctl table) or json').choices(['short', 'json']).default('short'))
    .option('--warming', warmingHelp);
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
