import { describe, expect, it } from 'vitest';
import { buildBundle, workloadEntry } from '../../support/bundle-builder.ts';
import { findingsOf } from '../../support/evaluate.ts';

const VM = { instanceId: 'i-0000000000000001', hostname: 'vm1', ip: '10.0.0.1' };

describe('REG-01', () => {
  it('passes when the auto-registered entry exists under its expected name', () => {
    const found = findingsOf(buildBundle({ vms: [VM], entries: [workloadEntry('payments', 'payments-vm', '10.0.0.1')] }), 'REG-01');
    expect(found['i-0000000000000001']).toEqual({ status: 'PASS', message: 'registered as payments/payments-vm-10.0.0.1' });
  });

  it('fails when no entry has the address in the namespace and network', () => {
    const entries = [
      workloadEntry('other', 'other-vm', '10.0.0.1'),
      workloadEntry('payments', 'payments-vm', '10.0.0.1', { network: 'net2' }),
    ];
    expect(findingsOf(buildBundle({ vms: [VM], entries }), 'REG-01')['i-0000000000000001']).toEqual({
      status: 'FAIL',
      message: 'no WorkloadEntry in payments has address 10.0.0.1',
    });
  });

  it('fails when the entry of an auto-registering VM does not have the name istiod gives it', () => {
    const entries = [workloadEntry('payments', 'payments-vm', '10.0.0.1', { name: 'hand-made' })];
    expect(findingsOf(buildBundle({ vms: [VM], entries }), 'REG-01')['i-0000000000000001']!.status).toBe('FAIL');
  });

  it('accepts a hand-made entry for a VM that does not auto-register', () => {
    const entries = [workloadEntry('payments', 'payments-vm', '10.0.0.1', { name: 'hand-made', auto: false })];
    expect(findingsOf(buildBundle({ vms: [{ ...VM, group: null }], entries }), 'REG-01')['i-0000000000000001']!.status).toBe('PASS');
  });
});

describe('REG-02', () => {
  it('passes for an entry whose VM answered, fails for an orphan, skips hand-made entries', () => {
    const entries = [
      workloadEntry('payments', 'payments-vm', '10.0.0.1'),
      workloadEntry('payments', 'payments-vm', '10.0.0.99'),
      workloadEntry('payments', 'payments-vm', '10.0.0.98', { name: 'manual', auto: false }),
    ];
    expect(findingsOf(buildBundle({ vms: [VM], entries }), 'REG-02')).toEqual({
      'payments/payments-vm-10.0.0.1': { status: 'PASS', message: 'belongs to i-0000000000000001' },
      'payments/payments-vm-10.0.0.99': { status: 'FAIL', message: 'orphan: no VM of the inventory has address 10.0.0.99' },
      'payments/manual': { status: 'SKIP', message: 'not auto-registered: a hand-made entry may describe a machine outside the inventory' },
    });
  });

  it('is ERROR for the entry of an inventory VM that did not answer', () => {
    const found = findingsOf(
      buildBundle({
        vms: [{ ...VM, status: 'Failed', statusDetails: 'Undeliverable' }],
        entries: [workloadEntry('payments', 'payments-vm', '10.0.0.1')],
      }),
      'REG-02',
    );
    expect(found['payments/payments-vm-10.0.0.1']!.status).toBe('ERROR');
  });

  it('is ERROR for a malformed entry, naming it, and the others are still evaluated', () => {
    const broken = { apiVersion: 'networking.istio.io/v1', metadata: { name: 'broken', namespace: 'payments' }, spec: {} };
    const alien = { apiVersion: 'example.com/v9', metadata: { name: 'alien', namespace: 'payments' }, spec: { address: '1.2.3.4' } };
    const found = findingsOf(
      buildBundle({ vms: [VM], entries: [broken, alien, workloadEntry('payments', 'payments-vm', '10.0.0.1')] }),
      'REG-02',
    );
    expect(found['payments/broken']).toEqual({
      status: 'ERROR',
      message: 'the WorkloadEntry could not be read: spec.address: Invalid input: expected string, received undefined',
    });
    expect(found['payments/alien']).toEqual({
      status: 'ERROR',
      message: 'the WorkloadEntry could not be read: apiVersion: unknown apiVersion',
    });
    expect(found['payments/payments-vm-10.0.0.1']!.status).toBe('PASS');
  });
});
