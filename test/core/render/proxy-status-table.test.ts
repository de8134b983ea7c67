import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { proxyStatusRows } from '../../../lib/core/proxy-status.ts';
import { renderProxyStatusTable } from '../../../lib/core/render/proxy-status-table.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/kube/proxy-status/${name}`, import.meta.url), 'utf8');

describe('renderProxyStatusTable', () => {
  it("reproduces istioctl 1.24's multiXdsStatusMultiPilot.txt from four replicas' syncz answers, whatever their order", () => {
    const replicas = [3, 1, 4, 2].map((i) => ({ istiod: `istiod${i}`, syncz: JSON.parse(fixture(`istiod${i}.json`)) as unknown[] }));
    // istioctl ends the table with a newline; the upstream test file is stored without it.
    expect(renderProxyStatusTable(proxyStatusRows(replicas).rows)).toBe(`${fixture('multiXdsStatusMultiPilot.txt')}\n`);
  });

  it('prints only the header for no proxies', () => {
    expect(renderProxyStatusTable([])).toBe('NAME     CLUSTER     CDS     LDS     EDS     RDS     ECDS     ISTIOD     VERSION\n');
  });

  it('keeps a tab or newline inside a value from shifting the columns', () => {
    const { rows } = proxyStatusRows([{ istiod: 'i', syncz: [{ proxy: 'evil\tname\n.ns', cluster_id: 'Kubernetes', istio_version: '1.24.6' }] }]);
    const lines = renderProxyStatusTable(rows).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]!.split(/\s{2,}/)).toHaveLength(9);
  });
});
