import { describe, expect, it } from 'vitest';
import { analyzeBundle, vmStatus } from '../../lib/core/analyze.ts';
import { collect01 } from '../../lib/core/controls/collection.ts';
import { health01, health03 } from '../../lib/core/controls/health.ts';
import { reg01, reg02 } from '../../lib/core/controls/registration.ts';
import { xds01 } from '../../lib/core/controls/xds.ts';
import { ReportSchema, type Finding } from '../../lib/core/report.ts';
import { buildBundle, syncStatus, workloadEntry } from '../support/bundle-builder.ts';

const finding = (control: string, status: Finding['status']): Finding => ({
  control,
  status,
  severity: 'HIGH',
  subject: { kind: 'vm', id: 'i-1' },
  message: '',
  evidence: {},
  remediation: '',
});

describe('vmStatus', () => {
  it('is UNKNOWN when collection did not pass, whatever else says', () => {
    expect(vmStatus([finding('COLLECT-01', 'FAIL'), finding('HEALTH-01', 'PASS')])).toBe('UNKNOWN');
    expect(vmStatus([finding('COLLECT-01', 'ERROR')])).toBe('UNKNOWN');
    expect(vmStatus([])).toBe('UNKNOWN');
  });
  it('is NON_COMPLIANT on any FAIL, UNKNOWN on ERROR without FAIL, COMPLIANT otherwise', () => {
    expect(vmStatus([finding('COLLECT-01', 'PASS'), finding('HEALTH-01', 'FAIL'), finding('XDS-01', 'ERROR')])).toBe('NON_COMPLIANT');
    expect(vmStatus([finding('COLLECT-01', 'PASS'), finding('XDS-01', 'ERROR')])).toBe('UNKNOWN');
    expect(vmStatus([finding('COLLECT-01', 'PASS'), finding('REG-02', 'SKIP'), finding('HEALTH-01', 'WAIVED')])).toBe('COMPLIANT');
  });
});

describe('analyzeBundle', () => {
  const bundle = buildBundle({
    vms: [
      { instanceId: 'i-0000000000000002', hostname: 'b', ip: '10.0.0.2', activeState: 'failed', subState: 'failed' },
      { instanceId: 'i-0000000000000001', hostname: 'a', ip: '10.0.0.1' },
    ],
    entries: [workloadEntry('payments', 'payments-vm', '10.0.0.1')],
    syncz: { 'istiod-a': [syncStatus('a.payments')] },
  });

  it('builds a report that satisfies its own schema, with VMs sorted and counts that add up', () => {
    const report = ReportSchema.parse(analyzeBundle(bundle, { controls: [collect01, health01, health03, xds01, reg01, reg02] }));
    expect(report.vms.map((v) => [v.instanceId, v.status, v.proxyId, v.workloadEntry])).toEqual([
      ['i-0000000000000001', 'COMPLIANT', 'a.payments', 'payments/payments-vm-10.0.0.1'],
      ['i-0000000000000002', 'NON_COMPLIANT', 'b.payments', null],
    ]);
    expect(report.summary).toMatchObject({ vms: 2, compliant: 1, nonCompliant: 1, unknown: 0 });
    for (const [id, counts] of Object.entries(report.summary.byControl)) {
      expect(counts.PASS + counts.FAIL + counts.ERROR + counts.SKIP + counts.WAIVED).toBe(
        report.findings.filter((f) => f.control === id).length,
      );
    }
    expect(report.summary.bySeverity).toEqual({ CRITICAL: 2, HIGH: 1, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0 });
  });

  it('takes "now" from the evidence: the same bundle gives the same report on any day', () => {
    expect(JSON.stringify(analyzeBundle(bundle))).toBe(JSON.stringify(analyzeBundle(structuredClone(bundle))));
    expect(analyzeBundle(bundle).finishedAt).toBe(bundle.manifest.finishedAt);
  });
});

describe('analyzeBundle: a VM cannot lend itself the mesh standing of another machine', () => {
  const intruderProxy = syncStatus('intruder.payments');
  const findingsOf = (report: ReturnType<typeof analyzeBundle>, control: string) =>
    Object.fromEntries(report.findings.filter((f) => f.control === control).map((f) => [f.subject.id, f]));
  const intruderOnly = buildBundle({
    vms: [
      {
        instanceId: 'i-0000000000000001',
        hostname: 'vm1',
        ip: '10.0.0.5',
        activeState: 'inactive',
        subState: 'dead',
        httpCode: '000',
        curlExit: '7',
      },
    ],
    entries: [workloadEntry('payments', 'payments-vm', '10.0.0.99')],
    syncz: { 'istiod-a': [intruderProxy] },
  });
  // The same fleet, the stopped VM now printing the intruder's host name.
  const liar = buildBundle({
    vms: [
      {
        instanceId: 'i-0000000000000001',
        hostname: 'intruder',
        ip: '10.0.0.5',
        activeState: 'inactive',
        subState: 'dead',
        httpCode: '000',
        curlExit: '7',
      },
    ],
    entries: [workloadEntry('payments', 'payments-vm', '10.0.0.99')],
    syncz: { 'istiod-a': [intruderProxy] },
  });

  it('reports the intruder proxy as unknown when no VM claims it', () => {
    const report = analyzeBundle(intruderOnly);
    expect(findingsOf(report, 'XDS-05')['intruder.payments']!.status).toBe('FAIL');
    expect(findingsOf(report, 'XDS-01')['i-0000000000000001']!.status).toBe('FAIL');
  });

  it("turns neither the intruder's XDS-05 nor the stopped VM's XDS-01 into a PASS when the VM prints the intruder's host name", () => {
    const report = analyzeBundle(liar);
    const xds05 = findingsOf(report, 'XDS-05')['intruder.payments']!;
    expect(xds05.status).toBe('ERROR');
    expect(xds05.message).toContain(
      'claimed by i-0000000000000001, whose own evidence contradicts the claim: its istio unit is inactive (dead)',
    );
    const vm = (control: string) => findingsOf(report, control)['i-0000000000000001']!;
    expect(vm('HEALTH-01').status).toBe('FAIL');
    for (const control of ['XDS-01', 'XDS-02', 'XDS-03']) {
      expect(vm(control).status, control).toBe('ERROR');
      expect(vm(control).message, control).toContain('istiod holds intruder.payments as connected (istiod-a)');
    }
    // What the VM or the ownership of the mesh's objects rests on passes nowhere (REG-03 and REG-04 judge the entry alone).
    const borrowed = report.findings.filter(
      (f) =>
        f.status === 'PASS' && (f.subject.kind === 'vm' ? /^(XDS-0[123]|REG)/.test(f.control) : ['XDS-05', 'REG-02'].includes(f.control)),
    );
    expect(borrowed.map((f) => `${f.control} ${f.subject.id}`)).toEqual([]);
    expect(findingsOf(report, 'REG-02')['payments/payments-vm-10.0.0.99']!.status).toBe('FAIL');
    expect(report.vms[0]!.status).toBe('NON_COMPLIANT');
  });

  it("does not let a VM borrow another proxy's connection by its address either: XDS-05 is ERROR, REG-07 still judges the address", () => {
    const report = analyzeBundle(
      buildBundle({
        vms: [
          {
            instanceId: 'i-0000000000000001',
            hostname: 'vm1',
            ip: '10.0.0.99',
            ssmIp: '10.0.0.5',
            env: ["ISTIO_SVC_IP=''"],
            sections: [
              {
                name: 'envoy-server-info',
                content: JSON.stringify({ state: 'LIVE', node: { id: 'sidecar~10.0.0.99~vm1.payments~payments.svc.cluster.local' } }),
              },
            ],
          },
        ],
        entries: [workloadEntry('payments', 'payments-vm', '10.0.0.99')],
        syncz: { 'istiod-a': [syncStatus('vm1.payments')] },
      }),
    );
    expect(findingsOf(report, 'XDS-01')['i-0000000000000001']!.status).toBe('ERROR');
    expect(findingsOf(report, 'XDS-05')['vm1.payments']!.status).toBe('ERROR');
    expect(findingsOf(report, 'REG-02')['payments/payments-vm-10.0.0.99']!.status).toBe('ERROR');
    expect(findingsOf(report, 'REG-07')['i-0000000000000001']!).toMatchObject({
      status: 'FAIL',
      message: expect.stringContaining('SSM knows it at 10.0.0.5'),
    });
  });

  it("does not take an ISTIO_SVC_IP pin as proof: REG-07 accepts the pin, the joined controls cannot show the proxy is the VM's", () => {
    const report = analyzeBundle(
      buildBundle({
        vms: [{ instanceId: 'i-0000000000000001', hostname: 'vm1', ip: '10.0.0.99', ssmIp: '10.0.0.5' }],
        entries: [workloadEntry('payments', 'payments-vm', '10.0.0.99')],
        syncz: { 'istiod-a': [syncStatus('vm1.payments')] },
      }),
    );
    expect(findingsOf(report, 'REG-07')['i-0000000000000001']!.status).toBe('PASS');
    for (const control of ['XDS-01', 'REG-01']) {
      expect(findingsOf(report, control)['i-0000000000000001']!.message, control).toContain(
        'the proxy vm1.payments is at 10.0.0.99, the address ISTIO_SVC_IP pins, but SSM knows the VM at 10.0.0.5',
      );
    }
  });
});
