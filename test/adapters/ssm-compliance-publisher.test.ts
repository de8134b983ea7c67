import { PutComplianceItemsCommand, SSMClient, ThrottlingException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SsmCompliancePublisher } from '../../lib/adapters/ssm-compliance-publisher.ts';
import { SSM_COMPLIANCE_TYPE, ssmComplianceRecords } from '../../lib/core/ssm-compliance.ts';
import { publishCompliance } from '../../lib/use-cases/publish-compliance.ts';
import { sampleReport } from '../support/sample-report.ts';

const ssm = mockClient(SSMClient);
const client = new SSMClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });

describe('SSM Compliance items', () => {
  beforeEach(() => ssm.reset());
  afterAll(() => ssm.restore());

  it('maps each VM to one item per control, worst finding first, with the status and severity SSM knows', () => {
    const report = sampleReport();
    const records = ssmComplianceRecords(report);
    expect(records.map((r) => r.instanceId)).toEqual(report.vms.map((vm) => vm.instanceId));
    const web2 = records.find((r) => r.instanceId === 'i-0000000000000002')!;
    expect(web2.executionId).toBe(report.runId);
    const health = web2.items.find((i) => i.Id === 'HEALTH-01')!;
    expect(health).toMatchObject({ Status: 'NON_COMPLIANT', Severity: 'CRITICAL', Details: { Status: 'FAIL' } });
    const unknown = records.find((r) => r.instanceId === 'mi-00000000000000004')!;
    const error = unknown.items.find((i) => i.Id === 'HEALTH-01')!;
    expect(error).toMatchObject({ Status: 'NON_COMPLIANT', Details: { Status: 'ERROR' } });
    expect(error.Details.Reason).toMatch(/^could not be evaluated: /);
    for (const record of records) expect(new Set(record.items.map((i) => i.Id)).size).toBe(record.items.length);
  });

  it('reports a waived failure as COMPLIANT with the waiver, and a SKIP as not applicable', () => {
    const report = sampleReport();
    const failing = report.findings.find((f) => f.status === 'FAIL' && f.subject.kind === 'vm')!;
    failing.status = 'WAIVED';
    failing.evidence = { waiver: { justification: 'host being rebuilt', owner: 'ops', expires: '2027-01-01T00:00:00Z' } };
    const passing = report.findings.find((f) => f.status === 'PASS' && f.subject.kind === 'vm' && f.subject.id !== failing.subject.id)!;
    passing.status = 'SKIP';
    const items = ssmComplianceRecords(report).flatMap((r) => r.items.map((i) => ({ ...i, vm: r.instanceId })));
    expect(items.find((i) => i.vm === failing.subject.id && i.Id === failing.control)).toMatchObject({
      Status: 'COMPLIANT',
      Details: { Waiver: 'host being rebuilt (owner ops, expires 2027-01-01T00:00:00Z)' },
    });
    expect(items.find((i) => i.vm === passing.subject.id && i.Id === passing.control)).toMatchObject({
      Status: 'COMPLIANT',
      Details: { Applicable: 'no' },
    });
  });

  it('sends every item of a VM in one call, replacing its list, and makes a failed VM an outcome', async () => {
    ssm.on(PutComplianceItemsCommand).resolves({});
    ssm
      .on(PutComplianceItemsCommand, { ResourceId: 'mi-00000000000000004' })
      .rejects(new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }));
    const report = sampleReport();
    const result = await publishCompliance(new SsmCompliancePublisher(client, { concurrency: 2 }), report);
    expect(result).toEqual({
      published: 3,
      failed: [{ instanceId: 'mi-00000000000000004', error: 'PutComplianceItems ThrottlingException: Rate exceeded' }],
    });
    const calls = ssm.commandCalls(PutComplianceItemsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(4);
    const records = ssmComplianceRecords(report);
    for (const input of calls) {
      const record = records.find((r) => r.instanceId === input.ResourceId)!;
      expect(input).toMatchObject({
        ResourceType: 'ManagedInstance',
        ComplianceType: SSM_COMPLIANCE_TYPE,
        UploadType: 'COMPLETE',
        ExecutionSummary: { ExecutionId: report.runId, ExecutionType: 'Command' },
      });
      expect(input.Items).toEqual(record.items);
    }
  });
});
