import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssmOutputPrefix } from '../../lib/shared/identifiers.ts';
import { printStack, resolveIntrinsics, type DeployedNames, type PrintedStack } from './stack-template.ts';

/**
 * The stack's policies, as serverless.yml generates them, evaluated by an IAM policy simulator for
 * requests a VM or a function could make: what AWS would allow, not what the YAML looks like.
 */

const ACCOUNT = '111122223333';
const BUCKET = 'fleet-audit-dev-evidencebucket-1a2b3c4d5e6f';
const NAMES: DeployedNames = {
  partition: 'aws',
  region: 'eu-west-1',
  accountId: ACCOUNT,
  refs: { EvidenceBucket: BUCKET, RunTable: 'fleet-audit-dev-RunTable', DiagnosticsDocument: 'fleet-audit-dev-diagnostics' },
  attributes: {
    'EvidenceBucket.Arn': `arn:aws:s3:::${BUCKET}`,
    'RunTable.Arn': `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/fleet-audit-dev-RunTable`,
    'TriggerDeadLetterQueue.Arn': `arn:aws:sqs:eu-west-1:${ACCOUNT}:fleet-audit-dev-TriggerDeadLetterQueue`,
  },
};

const RUN = '2026-03-01T06-00-00Z-a1b2c3';
const COMMAND = '0b6c1c5e-5a8f-4d39-9f0e-1e2d3c4b5a69';
const VM_A = 'i-0aaaaaaaaaaaaaaaa';
const VM_B = 'i-0bbbbbbbbbbbbbbbb';
const HYBRID = 'mi-0123456789abcdef0';
// Where the SSM agent puts a node's output: <prefix>/<command id>/<node id>/<plugin>/<step>/<stream>.
const outputKey = (node: string, stream = 'stdout') =>
  `${ssmOutputPrefix(RUN)}/${COMMAND}/${node}/awsrunShellScript/fleetAuditDiagnostics/${stream}`;
const object = (key: string) => `arn:aws:s3:::${BUCKET}/${key}`;

type Policy = { Version: string; Statement: unknown[] };
let stack: PrintedStack;
let prodOnly: PrintedStack;
let vmPolicy: Policy;
let bucketPolicy: Policy;

beforeAll(async () => {
  [stack, prodOnly] = await Promise.all([printStack(), printStack({ targetTagValues: 'prod,prod-eu' })]);
  const resources = stack.resources.Resources;
  vmPolicy = resolveIntrinsics(resources.VmOutputPolicy!.Properties.PolicyDocument, stack, NAMES) as Policy;
  bucketPolicy = resolveIntrinsics(resources.EvidenceBucketPolicy!.Properties.PolicyDocument, stack, NAMES) as Policy;
}, 60_000);

/** The decision for a request by a node's instance-profile session (its session name is its id). */
async function asNode(node: string, action: string, resource: string): Promise<string> {
  const simulation: Simulation = {
    request: {
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/istio-vm/${node}`,
      action,
      resource: { resource, accountId: ACCOUNT },
      contextVariables: {
        'aws:userid': `AROAEXAMPLEVMROLEID:${node}`,
        'aws:SecureTransport': 'true',
        ...(node.startsWith('i-') ? { 'ec2:SourceInstanceARN': `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/${node}` } : {}),
      },
    },
    identityPolicies: [{ name: 'VmOutputPolicy', policy: vmPolicy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: bucketPolicy,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`simulation refused: ${JSON.stringify(result.errors)}`);
  if (result.resultType !== 'single') throw new Error(`expected one resource, got ${result.resultType}`);
  return result.overallResult;
}

describe('the managed policy for the VMs (VmOutputPolicy)', () => {
  it('is a managed policy the stack exports for the instance profiles', () => {
    expect(stack.resources.Resources.VmOutputPolicy!.Type).toBe('AWS::IAM::ManagedPolicy');
    expect(stack.resources.Outputs!.VmOutputPolicyArn).toEqual({ Value: { Ref: 'VmOutputPolicy' } });
  });

  it('lets a node upload its own command output, EC2 and hybrid alike', async () => {
    expect(await asNode(VM_A, 's3:PutObject', object(outputKey(VM_A)))).toBe('Allowed');
    expect(await asNode(VM_A, 's3:PutObject', object(outputKey(VM_A, 'stderr')))).toBe('Allowed');
    expect(await asNode(HYBRID, 's3:PutObject', object(outputKey(HYBRID)))).toBe('Allowed');
  });

  it('refuses every write outside the output folder of a run: evidence, reports, digests, other prefixes', async () => {
    for (const key of [
      `runs/${RUN}/evidence/manifest.json`,
      `runs/${RUN}/evidence/vms/${VM_A}.json`,
      `runs/${RUN}/report.json`,
      `runs/${RUN}/report.html`,
      `runs/${RUN}/digest.json`,
      // The shape of an output key, moved under evidence/ (a wildcard in a resource also matches "/").
      `runs/${RUN}/evidence/ssm-output/${COMMAND}/${VM_A}/awsrunShellScript/fleetAuditDiagnostics/stdout`,
      `runs/${RUN}/evidence/x/ssm-output/${COMMAND}/${VM_A}/awsrunShellScript/fleetAuditDiagnostics/stdout`,
      `elsewhere/${COMMAND}/${VM_A}/awsrunShellScript/fleetAuditDiagnostics/stdout`,
      `runs/${RUN}/ssm-output/${COMMAND}/not-a-node/awsrunShellScript/fleetAuditDiagnostics/stdout`,
    ]) {
      expect(await asNode(VM_A, 's3:PutObject', object(key)), key).not.toBe('Allowed');
    }
  });

  it('refuses every read, listing, deletion and change of access, its own output included', async () => {
    expect(await asNode(VM_A, 's3:GetObject', object(outputKey(VM_A)))).not.toBe('Allowed');
    expect(await asNode(VM_A, 's3:GetObject', object(outputKey(VM_B)))).not.toBe('Allowed');
    expect(await asNode(VM_A, 's3:GetObject', object(`runs/${RUN}/report.json`))).not.toBe('Allowed');
    expect(await asNode(VM_A, 's3:DeleteObject', object(outputKey(VM_A)))).not.toBe('Allowed');
    expect(await asNode(VM_A, 's3:DeleteObjectVersion', object(outputKey(VM_B)))).not.toBe('Allowed');
    expect(await asNode(VM_A, 's3:PutObjectAcl', object(outputKey(VM_A)))).not.toBe('Allowed');
    expect(await asNode(VM_A, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`)).not.toBe('Allowed');
    expect(await asNode(VM_A, 's3:PutBucketPolicy', `arn:aws:s3:::${BUCKET}`)).not.toBe('Allowed');
    // What the agent reads before it uploads, and nothing more.
    expect(await asNode(VM_A, 's3:GetEncryptionConfiguration', `arn:aws:s3:::${BUCKET}`)).toBe('Allowed');
  });

  it('cannot hold a node to its own keys: another node of the run is writable, which the collector catches instead', async () => {
    // IAM offers no request value equal to the bare node id the agent puts in the key
    // (docs/deployment.md); the collector keeps an output only if it starts with SSM's own copy. Should
    // this become refused, that page must say so.
    expect(await asNode(VM_A, 's3:PutObject', object(outputKey(VM_B)))).toBe('Allowed');
  });

  it('refuses outputs over plain HTTP, as the bucket policy does for everyone', async () => {
    const simulation: Simulation = {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/istio-vm/${VM_A}`,
        action: 's3:PutObject',
        resource: { resource: object(outputKey(VM_A)), accountId: ACCOUNT },
        contextVariables: { 'aws:userid': `AROAEXAMPLEVMROLEID:${VM_A}`, 'aws:SecureTransport': 'false' },
      },
      identityPolicies: [{ name: 'VmOutputPolicy', policy: vmPolicy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: bucketPolicy,
    };
    const result = await runSimulation(simulation, {});
    expect(result.resultType === 'single' && result.overallResult).toBe('ExplicitlyDenied');
  });
});

/** The decision for SendCommand by a function's role on one resource, the node carrying `tags`. */
async function sendCommand(from: PrintedStack, role: string, resource: string, tags: Record<string, string>): Promise<string> {
  const policies = from.resources.Resources[role]!.Properties.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }>;
  const simulation: Simulation = {
    request: {
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/fleet-audit-dev-function`,
      action: 'ssm:SendCommand',
      resource: { resource, accountId: ACCOUNT },
      contextVariables: Object.fromEntries(Object.entries(tags).map(([key, value]) => [`ssm:resourceTag/${key}`, value])),
    },
    identityPolicies: policies.map((p) => ({ name: p.PolicyName, policy: resolveIntrinsics(p.PolicyDocument, from, NAMES) })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`simulation refused: ${JSON.stringify(result.errors)}`);
  if (result.resultType !== 'single') throw new Error(`expected one resource, got ${result.resultType}`);
  // A tag the simulator dropped as not applying would make every tag assertion below vacuous.
  expect(result.result.ignoredContextKeys ?? []).toEqual([]);
  return result.overallResult;
}

const instance = (id: string) => `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/${id}`;
const managedInstance = (id: string) => `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/${id}`;

describe('SendCommand from the functions that start audits', () => {
  for (const role of ['StartAuditRole', 'HttpApiRole']) {
    it(`${role}: with targetTagValues set, only nodes whose target tag has one of the values can be commanded`, async () => {
      expect(await sendCommand(prodOnly, role, instance(VM_A), { 'istio-vm': 'prod' })).toBe('Allowed');
      expect(await sendCommand(prodOnly, role, instance(VM_A), { 'istio-vm': 'prod-eu' })).toBe('Allowed');
      expect(await sendCommand(prodOnly, role, managedInstance(HYBRID), { 'istio-vm': 'prod' })).toBe('Allowed');
      expect(await sendCommand(prodOnly, role, instance(VM_B), { 'istio-vm': 'dev' })).not.toBe('Allowed');
      expect(await sendCommand(prodOnly, role, managedInstance(HYBRID), { 'istio-vm': 'dev' })).not.toBe('Allowed');
      // Values are matched as written, not as patterns or case-insensitively.
      expect(await sendCommand(prodOnly, role, instance(VM_B), { 'istio-vm': 'Prod' })).not.toBe('Allowed');
      expect(await sendCommand(prodOnly, role, instance(VM_B), { 'istio-vm': 'prod*' })).not.toBe('Allowed');
      expect(await sendCommand(prodOnly, role, instance(VM_B), { team: 'prod' })).not.toBe('Allowed');
      expect(await sendCommand(prodOnly, role, instance(VM_B), {})).not.toBe('Allowed');
    });

    it(`${role}: without targetTagValues, any node carrying the target tag, and no other`, async () => {
      expect(await sendCommand(stack, role, instance(VM_A), { 'istio-vm': 'dev' })).toBe('Allowed');
      expect(await sendCommand(stack, role, instance(VM_A), { 'istio-vm': '' })).toBe('Allowed');
      expect(await sendCommand(stack, role, instance(VM_B), { team: 'istio-vm' })).not.toBe('Allowed');
      expect(await sendCommand(stack, role, instance(VM_B), {})).not.toBe('Allowed');
    });

    it(`${role}: only our diagnostics document`, async () => {
      const document = (name: string) => `arn:aws:ssm:eu-west-1:${ACCOUNT}:document/${name}`;
      expect(await sendCommand(stack, role, document('fleet-audit-dev-diagnostics'), {})).toBe('Allowed');
      expect(await sendCommand(stack, role, document('AWS-RunShellScript'), {})).not.toBe('Allowed');
      expect(await sendCommand(stack, role, document('fleet-audit-dev-diagnostics-copy'), {})).not.toBe('Allowed');
    });
  }

  it('is not granted to the functions that only collect', async () => {
    for (const role of ['SsmCommandStatusRole', 'SweepRole']) {
      expect(await sendCommand(stack, role, instance(VM_A), { 'istio-vm': 'prod' }), role).not.toBe('Allowed');
    }
  });
});

/** The decision for PutEvents by a function's role on one bus, its entries carrying these sources. */
async function putEvents(role: string, bus: string, ...sources: string[]): Promise<string> {
  const policies = stack.resources.Resources[role]!.Properties.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }>;
  const simulation: Simulation = {
    request: {
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/fleet-audit-dev-function`,
      action: 'events:PutEvents',
      resource: { resource: `arn:aws:events:eu-west-1:${ACCOUNT}:event-bus/${bus}`, accountId: ACCOUNT },
      // Multi-valued: one source per entry of the call.
      contextVariables: sources.length > 0 ? { 'events:source': sources } : {},
    },
    identityPolicies: policies.map((p) => ({ name: p.PolicyName, policy: resolveIntrinsics(p.PolicyDocument, stack, NAMES) })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`simulation refused: ${JSON.stringify(result.errors)}`);
  if (result.resultType !== 'single') throw new Error(`expected one resource, got ${result.resultType}`);
  // A source the simulator dropped as not applying would make the source assertions vacuous.
  expect(result.result.ignoredContextKeys ?? []).toEqual([]);
  return result.overallResult;
}

describe('PutEvents from the functions that finalize runs', () => {
  for (const role of ['SsmCommandStatusRole', 'SweepRole']) {
    it(`${role}: the audit's own events on the default bus, and nothing else`, async () => {
      expect(await putEvents(role, 'default', 'fleet-audit')).toBe('Allowed');
      expect(await putEvents(role, 'security-findings', 'fleet-audit')).not.toBe('Allowed');
      // Another source on the same bus would let the function impersonate another producer.
      expect(await putEvents(role, 'default', 'aws.ssm')).not.toBe('Allowed');
      expect(await putEvents(role, 'default', 'fleet-audit-prod')).not.toBe('Allowed');
      // One entry of ours does not carry another's.
      expect(await putEvents(role, 'default', 'fleet-audit', 'fleet-audit')).toBe('Allowed');
      expect(await putEvents(role, 'default', 'fleet-audit', 'aws.ssm')).not.toBe('Allowed');
      expect(await putEvents(role, 'default')).not.toBe('Allowed');
    });
  }

  it('is not granted to the functions that start audits', async () => {
    for (const role of ['StartAuditRole', 'HttpApiRole']) {
      expect(await putEvents(role, 'default', 'fleet-audit'), role).not.toBe('Allowed');
    }
  });
});

/** The decision for one request by a function's role (no resource policy: the bucket policy only denies non-TLS). */
async function asRole(role: string, action: string, resource: string): Promise<string> {
  const policies = stack.resources.Resources[role]!.Properties.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }>;
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/fleet-audit-dev-function`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: {},
      },
      identityPolicies: policies.map((p) => ({ name: p.PolicyName, policy: resolveIntrinsics(p.PolicyDocument, stack, NAMES) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType !== 'single') throw new Error(`expected one resource, got ${result.resultType}`);
  return result.overallResult;
}

describe('what the finalizing functions read and write to compare runs', () => {
  for (const role of ['SsmCommandStatusRole', 'SweepRole']) {
    it(`${role}: writes a run's digest beside its report, and finds the previous run through the table's byStart index`, async () => {
      expect(await asRole(role, 's3:PutObject', object(`runs/${RUN}/digest.json`))).toBe('Allowed');
      expect(await asRole(role, 's3:GetObject', object(`runs/${RUN}/digest.json`))).toBe('Allowed');
      expect(await asRole(role, 's3:PutObject', object(`runs/${RUN}/other.json`))).not.toBe('Allowed');
      expect(
        await asRole(role, 'dynamodb:Query', `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/fleet-audit-dev-RunTable/index/byStart`),
      ).toBe('Allowed');
    });
  }

  it('is not granted to the function that starts audits', async () => {
    expect(await asRole('StartAuditRole', 's3:PutObject', object(`runs/${RUN}/digest.json`))).not.toBe('Allowed');
  });
});

describe('report uploads by the functions that finalize', () => {
  for (const role of ['SsmCommandStatusRole', 'SweepRole']) {
    it(`${role}: may upload a report in parts and abort that upload, and abort nothing else`, async () => {
      // CreateMultipartUpload, UploadPart and CompleteMultipartUpload are all authorized as s3:PutObject.
      expect(await asRole(role, 's3:PutObject', object(`runs/${RUN}/report.ocsf.json`))).toBe('Allowed');
      expect(await asRole(role, 's3:AbortMultipartUpload', object(`runs/${RUN}/report.ocsf.json`))).toBe('Allowed');
      expect(await asRole(role, 's3:AbortMultipartUpload', object(`runs/${RUN}/evidence/manifest.json`))).not.toBe('Allowed');
      expect(await asRole(role, 's3:AbortMultipartUpload', object(outputKey(VM_A)))).not.toBe('Allowed');
      expect(await asRole(role, 's3:AbortMultipartUpload', object('elsewhere/report.json'))).not.toBe('Allowed');
    });
  }

  it('is not granted to the functions that do not write reports', async () => {
    for (const role of ['StartAuditRole', 'HttpApiRole']) {
      expect(await asRole(role, 's3:AbortMultipartUpload', object(`runs/${RUN}/report.json`)), role).not.toBe('Allowed');
    }
  });
});

describe('waivers and SSM Compliance for the functions that finalize', () => {
  for (const role of ['SsmCommandStatusRole', 'SweepRole']) {
    it(`${role}: reads the waivers under config/ only, and publishes compliance items on nodes only`, async () => {
      expect(await asRole(role, 's3:GetObject', object('config/waivers.yaml'))).toBe('Allowed');
      expect(await asRole(role, 's3:PutObject', object('config/waivers.yaml'))).not.toBe('Allowed');
      expect(await asRole(role, 's3:GetObject', object('elsewhere/waivers.yaml'))).not.toBe('Allowed');
      expect(await asRole(role, 'ssm:PutComplianceItems', instance(VM_A))).toBe('Allowed');
      expect(await asRole(role, 'ssm:PutComplianceItems', managedInstance(HYBRID))).toBe('Allowed');
      // Another region's nodes are not this stack's.
      expect(await asRole(role, 'ssm:PutComplianceItems', `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${VM_A}`)).not.toBe('Allowed');
    });
  }

  it('is not granted to the functions that start audits', async () => {
    for (const role of ['StartAuditRole', 'HttpApiRole']) {
      expect(await asRole(role, 'ssm:PutComplianceItems', instance(VM_A)), role).not.toBe('Allowed');
      expect(await asRole(role, 's3:GetObject', object('config/waivers.yaml')), role).not.toBe('Allowed');
    }
  });
});
