/** The answers of the fake VM's loopback HTTP server, standing in for Envoy's admin port and the agent's readiness port. */
import { healthyClusterStatuses } from '../fake-envoy-clusters.ts';
import type { Pki } from './test-pki.ts';
import { fixture } from './text-files.ts';
import type { FakeVmOptions } from './types.ts';
import { VM } from './vm-defaults.ts';

/** An HTTP answer of the fake server. */
export interface Answer {
  status: number;
  type: string;
  body: string;
}

const STATS = [
  'cluster_manager.cds.update_attempt: 5',
  'cluster_manager.cds.update_rejected: 0',
  'cluster_manager.cds.update_success: 5',
  'control_plane.connected_state: 1',
  'listener_manager.lds.update_attempt: 4',
  'listener_manager.lds.update_rejected: 0',
  'listener_manager.lds.update_success: 4',
  'server.live: 1',
  'server.state: 0',
];

/** What Envoy's admin (envoy.admin.v3 shapes) and pilot-agent's readiness endpoint answer. */
export function envoyAnswer(url: URL, pki: Pki, options: FakeVmOptions): Answer {
  const json = (value: unknown): Answer => ({ status: 200, type: 'application/json', body: JSON.stringify(value, null, 2) });
  switch (url.pathname) {
    case '/healthz/ready':
      return { status: options.readiness === 503 ? 503 : 200, type: 'text/plain', body: '' };
    case '/server_info': {
      const node = options.envoyNode ?? {
        ip: VM.ip,
        hostname: VM.hostname,
        namespace: VM.namespace,
        cluster: `foo.${VM.namespace}`,
        istioVersion: VM.istioVersion,
        uptimeSeconds: 3600,
      };
      return json({
        version: '7d8b1c0b0ad3b4c3bd9f9c3d4e4b2c2c1a2b3c4d/1.32.3/Clean/RELEASE/BoringSSL',
        state: 'LIVE',
        hot_restart_version: 'disabled',
        command_line_options: {
          base_id: '0',
          concurrency: 2,
          config_path: 'etc/istio/proxy/envoy-rev.json',
          log_level: 'warning',
          drain_strategy: 'Immediate',
        },
        node: {
          // Istio's proxy id: <type>~<ip>~<pod or VM name>.<namespace>~<namespace>.svc.<domain>.
          id: `sidecar~${node.ip}~${node.hostname}.${node.namespace}~${node.namespace}.svc.cluster.local`,
          cluster: node.cluster,
          metadata: {
            ISTIO_VERSION: node.istioVersion,
            NAMESPACE: node.namespace,
            CLUSTER_ID: 'Kubernetes',
            SERVICE_ACCOUNT: VM.serviceAccount,
            ...options.envoyMetadata,
          },
        },
        // protobuf Duration in JSON: seconds with an `s`.
        uptime_current_epoch: `${node.uptimeSeconds}s`,
        uptime_all_epochs: `${node.uptimeSeconds}s`,
      });
    }
    case '/stats': {
      const filter = url.searchParams.get('filter');
      const re = filter === null ? undefined : new RegExp(filter);
      // Envoy's text stats come sorted by name, one `name: value` line each.
      const all = options.envoyStats
        ? Object.keys(options.envoyStats)
            .sort()
            .map((name) => `${name}: ${options.envoyStats![name]}`)
        : STATS;
      return { status: 200, type: 'text/plain', body: `${all.filter((l) => !re || re.test(l.slice(0, l.indexOf(':')))).join('\n')}\n` };
    }
    case '/clusters':
      if (url.searchParams.get('format') !== 'json') return { status: 400, type: 'text/plain', body: 'only ?format=json is faked\n' };
      return { status: 200, type: 'application/json', body: options.envoyClusterStatuses ?? healthyClusterStatuses(VM) };
    case '/config_dump':
      return configDump(url.searchParams.get('resource'), url.searchParams.get('mask'), pki, options);
    default:
      return { status: 404, type: 'text/plain', body: 'invalid path\n' };
  }
}

/** Envoy's /config_dump for the resources and masks the script asks for: secrets and clusters, active and warming. */
function configDump(resource: string | null, mask: string | null, pki: Pki, options: FakeVmOptions): Answer {
  const json = (value: unknown): Answer => ({ status: 200, type: 'application/json', body: JSON.stringify(value, null, 2) });
  if (resource === 'dynamic_active_secrets') {
    // Istio's secret config dump sample, serving this VM's certificates.
    const dump = JSON.parse(fixture('secrets-config-dump.json')) as {
      configs: Array<{ dynamic_active_secrets: Array<{ name: string; secret: Record<string, unknown> }> }>;
    };
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const held = options.envoySecrets;
    const configs = dump.configs[0]!.dynamic_active_secrets.map((s) => {
      const secret = structuredClone(s.secret) as {
        tls_certificate?: { certificate_chain: { inline_bytes: string } };
        validation_context?: { trusted_ca: { inline_bytes: string } };
      };
      if (secret.tls_certificate)
        secret.tls_certificate.certificate_chain.inline_bytes = b64(held ? held.chainPem : pki.leafPem + pki.rootPem);
      if (secret.validation_context) secret.validation_context.trusted_ca.inline_bytes = b64(held ? held.rootPem : pki.rootPem);
      const versions = held ? { version_info: held.versionInfo, last_updated: protobufTimestamp(held.lastUpdated) } : {};
      return { '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret', ...s, ...versions, secret };
    });
    return json({ configs });
  }
  if (
    options.envoyClusters &&
    mask === 'cluster.name,cluster.type' &&
    (resource === 'dynamic_active_clusters' || resource === 'dynamic_warming_clusters')
  ) {
    const list = resource === 'dynamic_active_clusters' ? options.envoyClusters.active : options.envoyClusters.warming;
    if (list.length === 0) return json({});
    return json({
      configs: list.map((c) => ({
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
        // proto3 JSON leaves a field at its default out: STATIC is DiscoveryType's zero value.
        cluster: {
          '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
          name: c.name,
          ...(c.type === 'STATIC' ? {} : { type: c.type }),
        },
      })),
    });
  }
  if (resource === 'dynamic_active_clusters' && mask === 'cluster.name,cluster.type') {
    const cluster = (name: string, type: string) => ({
      '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
      cluster: { '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name, type },
    });
    const configs = [
      cluster(`outbound|15012||istiod.istio-system.svc.cluster.local`, 'EDS'),
      cluster(`outbound|443||istiod.istio-system.svc.cluster.local`, 'EDS'),
      cluster(`outbound|8080||foo.${VM.namespace}.svc.cluster.local`, 'EDS'),
      cluster('inbound|8080||', 'ORIGINAL_DST'),
    ];
    let text = JSON.stringify({ configs });
    for (let i = 0; options.clustersBytes && text.length < options.clustersBytes; i++) {
      configs.push(cluster(`outbound|80||svc-${i}.padding.svc.cluster.local`, 'EDS'));
      if (i % 500 === 0) text = JSON.stringify({ configs });
    }
    return json({ configs });
  }
  if (resource === 'dynamic_warming_secrets' || resource === 'dynamic_warming_clusters') return json({});
  return { status: 400, type: 'text/plain', body: 'unexpected config_dump query\n' };
}

/** A protobuf Timestamp in JSON: RFC 3339 in UTC, with 0, 3, 6 or 9 fractional digits (here 0 or 3). */
function protobufTimestamp(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}
