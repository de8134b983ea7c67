import { isAtLeast, type IstioctlVersion } from '../istioctl-version.ts';
import type { Evidence } from '../result.ts';
import { parseBootstrapSummary, renderBootstrapSummary } from './bootstrap-summary.ts';
import { parseClustersDump } from './clusters-dump.ts';
import { renderClustersTable } from './clusters-table.ts';
import { parseEndpointsDump } from './endpoints-dump.ts';
import { renderEndpointsTable } from './endpoints-table.ts';
import { parseListenersDump } from './listeners-dump.ts';
import { renderListenersTable } from './listeners-table.ts';
import { parseRoutesDump } from './routes-dump.ts';
import { renderRoutesTable } from './routes-table.ts';
import { parseSecretsDump } from './secrets-dump.ts';
import { NO_SECRETS_MESSAGE, renderSecretsTable } from './secrets-table.ts';

export interface AllSummaryOptions {
  version: IstioctlVersion;
  /** When VALID CERT is judged. */
  now: Date;
  /** istioctl's `--verbose` (its default) for the listener and route tables. */
  verbose?: boolean;
  /** istioctl 1.29's `--with-headers`: `------ CLUSTER INFO ------` before each part. */
  withHeaders?: boolean;
}

/**
 * `istioctl proxy-config all --file` for a full config dump: the bootstrap versions, then the cluster,
 * listener, route, secret and endpoint tables with their NAME columns (`cluster/…`, `listener/…`), a blank
 * line after each part. Like istioctl it fails when the dump has no bootstrap, clusters, listeners, routes
 * or secrets section; a dump without `?include_eds` gives the endpoint header alone.
 */
export function renderAllSummary(text: string, options: AllSummaryOptions): Evidence<string> {
  const bootstrap = parseBootstrapSummary(text);
  if (!bootstrap.ok) return bootstrap;
  const clusters = parseClustersDump(text);
  if (!clusters.ok) return clusters;
  if (!clusters.value.clusters.some((c) => c.state !== 'warming')) return { ok: false, reason: 'holds no clusters' };
  const listeners = parseListenersDump(text);
  if (!listeners.ok) return listeners;
  if (listeners.value.length === 0) return { ok: false, reason: 'holds no listeners' };
  const routes = parseRoutesDump(text);
  if (!routes.ok) return routes;
  if (routes.value.length === 0) return { ok: false, reason: 'holds no routes' };
  const secrets = parseSecretsDump(text);
  if (!secrets.ok) return secrets;
  if (secrets.value.shape === 'empty') return { ok: false, reason: 'holds no SecretsConfigDump' };
  const endpoints = parseEndpointsDump(text);

  const headers = options.withHeaders === true && isAtLeast(options.version, '1.29');
  const part = (title: string, body: string): string => `${headers ? `------ ${title} ------\n\n` : ''}${body}`;
  const verbose = options.verbose ?? true;
  const secretTable =
    secrets.value.secrets.length === 0
      ? NO_SECRETS_MESSAGE
      : renderSecretsTable(secrets.value.secrets, options.now, { version: options.version, withConfigType: true });
  return {
    ok: true,
    value: [
      part('BOOTSTRAP INFO', renderBootstrapSummary(bootstrap.value)),
      part('CLUSTER INFO', renderClustersTable(clusters.value.clusters, { withConfigType: true })),
      part('LISTENER INFO', renderListenersTable(listeners.value, { verbose, withConfigType: true })),
      part('ROUTE INFO', renderRoutesTable(routes.value, { verbose, withConfigType: true })),
      part('SECRET INFO', secretTable),
      part('ENDPOINTS INFO', renderEndpointsTable(endpoints.ok ? endpoints.value : [], {}, { withConfigType: true })),
    ].join('\n'),
  };
}
