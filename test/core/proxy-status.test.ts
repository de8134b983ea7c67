import { describe, expect, it } from 'vitest';
import { SyncStatusSchema, type SyncStatus } from '../../lib/core/mesh-view.ts';
import { proxyStatusRows, proxySyncStatus, XDS_TYPE_URLS, xdsTypeStatus } from '../../lib/core/proxy-status.ts';

const CDS = XDS_TYPE_URLS.CDS;
const LDS = XDS_TYPE_URLS.LDS;

function status(extra: Record<string, unknown>): SyncStatus {
  return SyncStatusSchema.parse({
    proxy: 'vm-1.payments',
    cluster_id: 'Kubernetes',
    proxy_type: 'sidecar',
    istio_version: '1.24.6',
    ...extra,
  });
}

describe('xdsTypeStatus', () => {
  it('is ERROR when the watched resource holds a lastError, quoting the NACK, even when the nonces match', () => {
    const s = status({ resources: { [LDS]: { sent: 'n2', acked: 'n2', lastError: 'Error adding/updating listener(s) x: bad filter' } } });
    expect(xdsTypeStatus(s, 'LDS')).toEqual({
      type: 'LDS',
      state: 'ERROR',
      sent: 'n2',
      acked: 'n2',
      lastError: 'Error adding/updating listener(s) x: bad filter',
    });
  });

  it('is IGNORED when istiod lists the watched types and this one is not among them', () => {
    expect(xdsTypeStatus(status({ resources: { [CDS]: { sent: 'a', acked: 'a' } } }), 'ECDS').state).toBe('IGNORED');
  });

  it('is IGNORED for every type of a ztunnel, which watches none of the Envoy types', () => {
    const s = status({ proxy_type: 'ztunnel' });
    expect(Object.values(proxySyncStatus(s).types).map((t) => t.state)).toEqual(['IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED']);
  });

  it('is NOT SENT for a sidecar type with no nonce when istiod does not say which types are watched (as istiod itself answers)', () => {
    expect(xdsTypeStatus(status({}), 'RDS').state).toBe('NOT SENT');
  });

  it('is NOT SENT when the type is watched but nothing was pushed yet', () => {
    expect(xdsTypeStatus(status({ resources: { [CDS]: { sentTime: '0001-01-01T00:00:00Z' } } }), 'CDS')).toEqual({
      type: 'CDS',
      state: 'NOT SENT',
      sent: '',
      acked: '',
    });
  });

  it('is SYNCED when the sent nonce was acknowledged, from the resources map or from the flat keys alone', () => {
    expect(xdsTypeStatus(status({ resources: { [CDS]: { sent: 'a', acked: 'a' } } }), 'CDS').state).toBe('SYNCED');
    expect(xdsTypeStatus(status({ cluster_sent: 'a', cluster_acked: 'a' }), 'CDS').state).toBe('SYNCED');
  });

  it('is STALE when the last push is unacknowledged, or was never acknowledged at all', () => {
    expect(xdsTypeStatus(status({ resources: { [CDS]: { sent: 'b', acked: 'a' } } }), 'CDS').state).toBe('STALE');
    expect(xdsTypeStatus(status({ endpoint_sent: 'b' }), 'EDS')).toEqual({ type: 'EDS', state: 'STALE', sent: 'b', acked: '' });
  });

  it('ignores flat nonce keys of the wrong type instead of throwing', () => {
    expect(xdsTypeStatus(status({ cluster_sent: 42, cluster_acked: 42 }), 'CDS').state).toBe('NOT SENT');
  });
});

describe('proxySyncStatus', () => {
  it('takes the VERSION from istio_version, else proxy_version marked with *, as istioctl prints an old control plane', () => {
    expect(proxySyncStatus(status({})).version).toBe('1.24.6');
    expect(proxySyncStatus({ proxy: 'p', proxy_version: '1.1.0' }).version).toBe('1.1.0*');
  });
});

describe('proxyStatusRows', () => {
  it('sorts by proxy name, lists a proxy held by two replicas once per replica, and returns invalid entries apart', () => {
    const a = { proxy: 'b.ns', cluster_id: 'c' };
    const { rows, invalid } = proxyStatusRows([
      { istiod: 'istiod-2', syncz: [a, { proxy: 'a.ns' }] },
      { istiod: 'istiod-1', syncz: [a, { cluster_id: 'no proxy' }, 'garbage'] },
    ]);
    expect(rows.map((r) => `${r.proxy}@${r.istiod}`)).toEqual(['a.ns@istiod-2', 'b.ns@istiod-1', 'b.ns@istiod-2']);
    expect(invalid.map((i) => [i.istiod, i.index])).toEqual([
      ['istiod-1', 1],
      ['istiod-1', 2],
    ]);
    expect(invalid[0]!.reason).toMatch(/^proxy: /);
  });
});
