import { describe, expect, it } from 'vitest';
import { parseEnvoyServerInfo } from '../../../lib/core/parsers/envoy-server-info.ts';

// Shape of Envoy's /server_info (envoy.admin.v3.ServerInfo) as an Istio 1.24 sidecar answers it.
const SERVER_INFO = JSON.stringify({
  version: '6c72b2179f5a58988b920a55b0be8346de3f7b35/1.32.3/Clean/RELEASE/BoringSSL',
  state: 'LIVE',
  hot_restart_version: 'disabled',
  command_line_options: { base_id: '0', concurrency: 2 },
  node: {
    id: 'sidecar~10.0.1.5~ip-10-0-1-5.payments~payments.svc.cluster.local',
    cluster: 'payments-vm.payments',
    metadata: { ISTIO_VERSION: '1.24.6', NAMESPACE: 'payments' },
  },
  uptime_current_epoch: '3600s',
  uptime_all_epochs: '3600s',
});

describe('parseEnvoyServerInfo', () => {
  it('reads the node id, state, version and uptime', () => {
    expect(parseEnvoyServerInfo(SERVER_INFO)).toEqual({
      ok: true,
      value: {
        state: 'LIVE',
        nodeId: 'sidecar~10.0.1.5~ip-10-0-1-5.payments~payments.svc.cluster.local',
        nodeIp: '10.0.1.5',
        proxyName: 'ip-10-0-1-5.payments',
        istioVersion: '1.24.6',
        uptimeSeconds: 3600,
      },
    });
  });

  it('is unavailable for truncated JSON, garbage and a wrong shape', () => {
    expect(parseEnvoyServerInfo(SERVER_INFO.slice(0, 120))).toMatchObject({ ok: false });
    expect(parseEnvoyServerInfo('\u0000garbage')).toMatchObject({ ok: false });
    expect(parseEnvoyServerInfo('{"node": 5}')).toMatchObject({ ok: false });
  });

  it('leaves the proxy name unknown when the node id has another shape', () => {
    expect(parseEnvoyServerInfo('{"node":{"id":"weird"}}')).toMatchObject({ ok: true, value: { proxyName: undefined, nodeIp: undefined } });
  });
});
