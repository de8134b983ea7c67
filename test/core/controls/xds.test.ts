import { describe, expect, it } from 'vitest';
import { buildBundle, syncStatus } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';

const VM = { instanceId: 'i-0000000000000001', hostname: 'vm1' };

describe('XDS-01', () => {
  it('passes when a replica holds the proxy', () => {
    const found = findingsOf(buildBundle({ vms: [VM], syncz: { 'istiod-a': [], 'istiod-b': [syncStatus('vm1.payments')] } }), 'XDS-01');
    expect(found['i-0000000000000001']).toEqual({ status: 'PASS', message: 'vm1.payments is connected to istiod-b' });
  });

  it('fails when every replica answered and none holds it', () => {
    const found = findingsOf(buildBundle({ vms: [VM], syncz: { 'istiod-a': [syncStatus('other.payments')], 'istiod-b': [] } }), 'XDS-01');
    expect(found['i-0000000000000001']).toEqual({ status: 'FAIL', message: 'vm1.payments is not connected to any istiod replica' });
  });

  it('is ERROR, not FAIL, when a replica did not answer', () => {
    const found = findingsOf(buildBundle({ vms: [VM], syncz: { 'istiod-a': [] }, pods: ['istiod-a', 'istiod-b'] }), 'XDS-01');
    expect(found['i-0000000000000001']).toEqual({
      status: 'ERROR',
      message: 'vm1.payments is on no replica that answered, and istiod-b did not answer',
    });
  });

  it('is ERROR without cluster evidence', () => {
    expect(findingsOf(buildBundle({ vms: [VM], cluster: false }), 'XDS-01')['i-0000000000000001']!.status).toBe('ERROR');
  });
});
