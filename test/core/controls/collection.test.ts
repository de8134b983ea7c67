import { describe, expect, it } from 'vitest';
import { buildBundle } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';

describe('COLLECT-01', () => {
  it('passes when the invocation succeeded and its output parsed', () => {
    expect(findingsOf(buildBundle({ vms: [{ instanceId: 'i-0000000000000001' }] }), 'COLLECT-01')).toEqual({
      'i-0000000000000001': { status: 'PASS', message: 'the diagnostic script ran and its output parsed' },
    });
  });

  it.each(['Undeliverable', 'DeliveryTimedOut', 'ExecutionTimedOut', 'Failed', 'AccessDenied', 'InvalidPlatform', 'Terminated'])(
    'fails with the SSM status detail %s',
    (detail) => {
      const status = detail === 'DeliveryTimedOut' || detail === 'ExecutionTimedOut' ? 'TimedOut' : 'Failed';
      const found = findingsOf(buildBundle({ vms: [{ instanceId: 'i-0000000000000001', status, statusDetails: detail }] }), 'COLLECT-01');
      expect(found['i-0000000000000001']).toEqual({ status: 'FAIL', message: `the SSM invocation ended ${status}: ${detail}` });
    },
  );

  it('is ERROR when the output cannot be parsed', () => {
    const found = findingsOf(buildBundle({ vms: [{ instanceId: 'i-0000000000000001', output: 'bash: syntax error' }] }), 'COLLECT-01');
    expect(found['i-0000000000000001']!.status).toBe('ERROR');
    expect(found['i-0000000000000001']!.message).toMatch(/could not be parsed: no diagnostic header/);
  });

  it('fails when a targeted VM has no invocation at all', () => {
    const bundle = buildBundle({ vms: [{ instanceId: 'i-0000000000000001' }] });
    delete bundle.invocations['i-0000000000000001'];
    expect(findingsOf(bundle, 'COLLECT-01')['i-0000000000000001']).toEqual({
      status: 'FAIL',
      message: 'no SSM invocation was recorded for this VM',
    });
  });
});
