import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { humanDuration } from '../../../lib/core/human-duration.ts';
import { ISTIOCTL_VERSIONS } from '../../../lib/core/istioctl-version.ts';
import { proxyStatusRows } from '../../../lib/core/proxy-status.ts';
import { renderProxyStatusTable } from '../../../lib/core/render/proxy-status-table.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/kube/proxy-status/${name}`, import.meta.url), 'utf8');
const syncz = (name: string): Record<string, unknown>[] => JSON.parse(fixture(name)) as Record<string, unknown>[];

// Upstream's goldens are printed from statuses that carry no push time (LastUpdated unset), so no age.
function withoutPushTimes(entries: Record<string, unknown>[]): Record<string, unknown>[] {
  return entries.map((e) => ({
    ...e,
    resources: Object.fromEntries(
      Object.entries((e.resources ?? {}) as Record<string, object>).map(([url, r]) => [url, { ...r, sentTime: undefined }]),
    ),
  }));
}

const multiPilot = (timed = false) =>
  proxyStatusRows(
    [3, 1, 4, 2].map((i) => {
      const entries = syncz(`istiod${i}.json`);
      return { istiod: `istiod${i}`, syncz: timed ? entries : withoutPushTimes(entries) };
    }),
  ).rows;
const singlePilot = () => proxyStatusRows([{ istiod: 'istiod1', syncz: withoutPushTimes(syncz('single-pilot/istiod1.json')) }]).rows;
const NOW = new Date('2024-11-20T10:03:05Z');
const OLD_LAYOUT = ISTIOCTL_VERSIONS.filter((v) => v < '1.27');
const NEW_LAYOUT = ISTIOCTL_VERSIONS.filter((v) => v >= '1.27');

describe('renderProxyStatusTable', () => {
  // istioctl ends the table with a newline; upstream stores its 1.24 multi-replica golden without it.
  it.each(OLD_LAYOUT)(
    "reproduces istioctl %s's multiXdsStatusMultiPilot.txt from four replicas' syncz answers, whatever their order",
    (version) => {
      expect(renderProxyStatusTable(multiPilot(), { now: NOW, version })).toBe(`${fixture('multiXdsStatusMultiPilot.txt')}\n`);
    },
  );

  it.each(OLD_LAYOUT)("reproduces istioctl %s's multiXdsStatusSinglePilot.txt", (version) => {
    expect(renderProxyStatusTable(singlePilot(), { now: NOW, version })).toBe(fixture('multiXdsStatusSinglePilot.txt'));
  });

  it.each(NEW_LAYOUT)("reproduces istioctl %s's SUBSCRIBED TYPES table (upstream 1.27.0 multiXdsStatusMultiPilot.txt)", (version) => {
    expect(renderProxyStatusTable(multiPilot(), { now: NOW, version })).toBe(fixture('multiXdsStatusMultiPilot-1.27.txt'));
  });

  it.each(NEW_LAYOUT)("reproduces istioctl %s's multiXdsStatusSinglePilot.txt", (version) => {
    expect(renderProxyStatusTable(singlePilot(), { now: NOW, version })).toBe(fixture('multiXdsStatusSinglePilot-1.27.txt'));
  });

  it.each(NEW_LAYOUT)(
    'reproduces istioctl %s -v 1 (upstream 1.27.0 multiXdsStatusMultiPilot_verbose.txt): one column per type, in type URL order',
    (version) => {
      const rows = multiPilot().filter((r) => r.proxy === 'proxy1');
      expect(renderProxyStatusTable(rows, { now: NOW, version, verbosity: 1 })).toBe(fixture('multiXdsStatusMultiPilot_verbose-1.27.txt'));
    },
  );

  it('follows a state with its age when istiod gave the push time, in every layout', () => {
    const proxy1 = multiPilot(true).filter((r) => r.proxy === 'proxy1');
    const cells = (text: string): string[] => text.split('\n')[1]!.trimEnd().split(/ {2,}/);
    // CDS pushed at 10:00:05 and unacknowledged, LDS/EDS/ECDS at 10:00:01, RDS never.
    expect(cells(renderProxyStatusTable(proxy1, { now: NOW, version: '1.24' }))).toEqual([
      'proxy1',
      'cluster1',
      'STALE (3m)',
      'SYNCED (3m4s)',
      'SYNCED (3m4s)',
      'NOT SENT',
      'SYNCED (3m4s)',
      'istiod1',
      '1.20',
    ]);
    expect(cells(renderProxyStatusTable(proxy1, { now: NOW, version: '1.29', verbosity: 1 }))).toEqual([
      'proxy1',
      'cluster1',
      'STALE (3m)',
      'SYNCED (3m4s)',
      'SYNCED (3m4s)',
      'SYNCED (3m4s)',
      'NOT SENT',
      'istiod1',
      '1.20',
    ]);
    expect(cells(renderProxyStatusTable(proxy1, { now: NOW, version: '1.29' }))).toEqual([
      'proxy1',
      'cluster1',
      'istiod1',
      '1.20',
      '5 (CDS,LDS,EDS,RDS,ECDS)',
    ]);
  });

  it("lists a ztunnel's own types after the core ones, by type URL, with istioctl's short names", () => {
    const ztunnel = {
      proxy: 'ztunnel-x.istio-system',
      cluster_id: 'Kubernetes',
      proxy_type: 'ztunnel',
      istio_version: '1.27.1',
      resources: {
        'type.googleapis.com/istio.workload.Address': { sent: 'a', acked: 'a' },
        'type.googleapis.com/istio.security.Authorization': { sent: 'b', acked: 'c' },
      },
    };
    const rows = proxyStatusRows([{ istiod: 'istiod-1', syncz: [ztunnel, ...syncz('istiod1.json')] }]).rows;
    const lines = renderProxyStatusTable(rows, { now: NOW, version: '1.27' }).split('\n');
    expect(lines[2]).toMatch(/\s2 \(WADS,WDS\)$/);
    expect(lines[1]).toMatch(/\s5 \(CDS,LDS,EDS,RDS,ECDS\)$/);
    const verbose = renderProxyStatusTable(rows, { now: NOW, version: '1.27', verbosity: 1 }).split('\n');
    expect(verbose[0]!.split(/ {2,}/)).toEqual(['NAME', 'CLUSTER', 'CDS', 'ECDS', 'EDS', 'LDS', 'RDS', 'WADS', 'WDS', 'ISTIOD', 'VERSION']);
    expect(verbose[2]!.split(/ {2,}/).slice(2, 9)).toEqual(['IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'IGNORED', 'STALE', 'SYNCED']);
  });

  it('prints only the header for no proxies', () => {
    expect(renderProxyStatusTable([], { now: NOW, version: '1.24' })).toBe(
      'NAME     CLUSTER     CDS     LDS     EDS     RDS     ECDS     ISTIOD     VERSION\n',
    );
    expect(renderProxyStatusTable([], { now: NOW })).toBe('NAME     CLUSTER     ISTIOD     VERSION     SUBSCRIBED TYPES\n');
  });

  it('keeps a tab or newline inside a value from shifting the columns', () => {
    const { rows } = proxyStatusRows([
      { istiod: 'i', syncz: [{ proxy: 'evil\tname\n.ns', cluster_id: 'Kubernetes', istio_version: '1.24.6' }] },
    ]);
    const lines = renderProxyStatusTable(rows, { now: NOW, version: '1.24' }).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]!.split(/\s{2,}/)).toHaveLength(9);
  });
});

describe('humanDuration', () => {
  it.each([
    [0, '0s'],
    [-1500, '0s'],
    [-2500, '<invalid>'],
    [119_999, '119s'],
    [125_000, '2m5s'],
    [180_000, '3m'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000, '3h'],
    [(3 * 60 + 5) * 60_000, '3h5m'],
    [8 * 3_600_000, '8h'],
    [47 * 3_600_000, '47h'],
    [49 * 3_600_000, '2d1h'],
    [8 * 86_400_000, '8d'],
    [(2 * 365 + 3) * 86_400_000, '2y3d'],
    [9 * 365 * 86_400_000, '9y'],
  ])('prints %d ms as %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it("saturates as Go's time.Since does, at about 292 years (a push time of Go's zero time)", () => {
    expect(humanDuration(Date.parse('2024-11-20T10:03:05Z') - Date.parse('0001-01-01T00:00:00Z'))).toBe('292y');
  });
});
