import { z } from 'zod';
import type { Evidence } from '../result.ts';

/**
 * Envoy's `/server_info` (envoy.admin.v3.ServerInfo): `state` LIVE | DRAINING | PRE_INITIALIZING |
 * INITIALIZING, `node.id` as Istio sets it (`sidecar~<ip>~<hostname>.<ns>~<ns>.svc.cluster.local`),
 * `node.metadata.ISTIO_VERSION`, and `uptime_current_epoch` as a protobuf Duration string ("123s").
 */
const ServerInfoSchema = z.looseObject({
  version: z.string().optional(),
  state: z.string().optional(),
  uptime_current_epoch: z.string().optional(),
  node: z
    .looseObject({
      id: z.string().optional(),
      cluster: z.string().optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

export interface EnvoyServerInfo {
  state: string | undefined;
  nodeId: string | undefined;
  /** The proxy's IP from the node id. */
  nodeIp: string | undefined;
  /** `<hostname>.<namespace>` from the node id: the proxy-status name. */
  proxyName: string | undefined;
  istioVersion: string | undefined;
  uptimeSeconds: number | undefined;
}

const NODE_ID = /^(?<type>sidecar|router|waypoint)~(?<ip>[0-9a-fA-F:.]+)~(?<name>[^~]+)~(?<domain>[^~]*)$/;

/** Parses Envoy's /server_info JSON. Never throws. */
export function parseEnvoyServerInfo(text: string): Evidence<EnvoyServerInfo> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'Envoy /server_info is not JSON' };
  }
  const parsed = ServerInfoSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'Envoy /server_info does not have the ServerInfo shape' };
  const info = parsed.data;
  const nodeId = info.node?.id;
  const node = nodeId ? NODE_ID.exec(nodeId)?.groups : undefined;
  const version = info.node?.metadata?.ISTIO_VERSION;
  const uptime = /^(?<s>\d+)(?:\.\d+)?s$/.exec(info.uptime_current_epoch ?? '')?.groups?.s;
  return {
    ok: true,
    value: {
      state: info.state,
      nodeId,
      nodeIp: node?.ip,
      proxyName: node?.name,
      istioVersion: typeof version === 'string' ? version : undefined,
      uptimeSeconds: uptime === undefined ? undefined : Number(uptime),
    },
  };
}
