import { describe, expect, it } from 'vitest';
import { buildBundle, type TestVm } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';

const one = (vm: Omit<TestVm, 'instanceId'>, control: string) =>
  findingsOf(buildBundle({ vms: [{ instanceId: 'i-0000000000000001', ...vm }] }), control)['i-0000000000000001'];

describe('HEALTH-01', () => {
  it('passes for active (running)', () => {
    expect(one({}, 'HEALTH-01')).toEqual({ status: 'PASS', message: 'istio is active (running)' });
  });
  it('fails for a stopped or failed unit', () => {
    expect(one({ activeState: 'inactive', subState: 'dead' }, 'HEALTH-01')).toEqual({
      status: 'FAIL',
      message: 'istio is inactive (dead)',
    });
    expect(one({ activeState: 'failed', subState: 'failed' }, 'HEALTH-01')).toEqual({
      status: 'FAIL',
      message: 'istio is failed (failed)',
    });
  });
  it('is ERROR, never PASS, for a VM that was not collected', () => {
    expect(one({ status: 'Failed', statusDetails: 'Undeliverable' }, 'HEALTH-01')).toEqual({
      status: 'ERROR',
      message: 'no diagnostic output to evaluate: the SSM invocation ended Failed (Undeliverable) (see COLLECT-01)',
    });
  });
});

describe('HEALTH-03', () => {
  it('passes on 200', () => {
    expect(one({}, 'HEALTH-03')).toEqual({ status: 'PASS', message: 'the readiness probe answered 200' });
  });
  it('fails on 503 and quotes the latest "Envoy proxy is NOT ready" line', () => {
    const logs =
      'last not-ready 2026-11-26T05:59:00Z warn Envoy proxy is NOT ready: old\nlast not-ready 2026-11-26T05:59:58Z warn Envoy proxy is NOT ready: config not received from XDS server (is Istiod running?)';
    expect(one({ httpCode: '503', logs }, 'HEALTH-03')).toEqual({
      status: 'FAIL',
      message: 'the readiness probe answered 503: Envoy proxy is NOT ready: config not received from XDS server (is Istiod running?)',
    });
  });
  it('tells refused from timed out', () => {
    expect(one({ httpCode: '000', curlExit: '7' }, 'HEALTH-03')).toEqual({
      status: 'FAIL',
      message: 'the readiness probe refused the connection',
    });
    expect(one({ httpCode: '000', curlExit: '28' }, 'HEALTH-03')).toEqual({ status: 'FAIL', message: 'the readiness probe timed out' });
  });
});
