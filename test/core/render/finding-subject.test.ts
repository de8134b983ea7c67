import { describe, expect, it } from 'vitest';
import { findingPlacer } from '../../../lib/core/render/finding-subject.ts';
import type { Finding, Report, VmSummary } from '../../../lib/core/report.ts';
import { sampleReport } from '../../support/sample-report.ts';

const vm = (instanceId: string, proxyId: string | null, workloadEntry: string | null): VmSummary => ({
  instanceId,
  hostname: instanceId,
  ip: null,
  proxyId,
  namespace: 'payments',
  workloadEntry,
  status: 'UNKNOWN',
});

const about = (kind: Finding['subject']['kind'], id: string): Finding => ({
  control: 'XDS-05',
  status: 'FAIL',
  severity: 'HIGH',
  subject: { kind, id },
  message: '',
  evidence: {},
  remediation: '',
});

describe('findingPlacer', () => {
  const report: Report = {
    ...sampleReport(),
    vms: [
      vm('i-1', 'web-1.payments', 'payments/web-1'),
      vm('i-2', 'shared.payments', 'payments/shared'),
      vm('i-3', 'shared.payments', 'payments/shared'),
    ],
  };
  const place = findingPlacer(report);

  it("places a proxy's or an entry's finding on the one VM that claims it", () => {
    expect(place(about('proxy', 'web-1.payments')).vm?.instanceId).toBe('i-1');
    expect(place(about('workloadentry', 'payments/web-1')).vm?.instanceId).toBe('i-1');
    expect(place(about('vm', 'i-3')).vm?.instanceId).toBe('i-3');
  });

  it('places it on no VM when two claim it, keeping the namespace its id names', () => {
    expect(place(about('proxy', 'shared.payments'))).toEqual({ vm: undefined, namespace: 'payments' });
    expect(place(about('workloadentry', 'payments/shared'))).toEqual({ vm: undefined, namespace: 'payments' });
  });
});
