import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lambdaLogicalId, loadResourceSpec, specViolations, type ResourceSpec, type TemplateUnderCheck } from './resource-spec.ts';
import { printStack, type PrintedStack } from './stack-template.ts';

/**
 * The stack's resources, as serverless.yml and infra/ describe them, against AWS's CloudFormation resource
 * specification: a misspelt property or a missing required one fails here rather than at deploy time,
 * when CloudFormation rolls the stack back.
 */

const ROOT = new URL('../..', import.meta.url).pathname;
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n').toString('base64');
const EKS = { eksClusterName: 'mesh', eksClusterEndpoint: 'https://ABCDEF0123.gr7.eu-west-1.eks.amazonaws.com', eksClusterCa: CA };

const SsmDocumentContent = createRequire(import.meta.url)('../../infra/plugins/ssm-document-content.cjs') as new (serverless: unknown) => {
  hooks: Record<string, () => void>;
};

/** The printed stack as packaging leaves it: the plugin puts the SSM document's Content in only then. */
function packagedResources(stack: PrintedStack): TemplateUnderCheck {
  const resources = structuredClone(stack.resources);
  const serverless = {
    service: { resources },
    serviceDir: ROOT,
    utils: { readFileSync: (path: string) => JSON.parse(readFileSync(path, 'utf8')) as unknown },
    classes: { Error },
  };
  new SsmDocumentContent(serverless).hooks['before:package:finalize']!();
  // The framework names each function's resource from the function's name; Fn::GetAtt reaches them too.
  const generated = Object.fromEntries(Object.keys(stack.functions).map((name) => [lambdaLogicalId(name), 'AWS::Lambda::Function']));
  return { ...resources, generated, elsewhere: stack.functions };
}

let spec: ResourceSpec;
let byDefault: TemplateUnderCheck;
let withEks: TemplateUnderCheck;
beforeAll(async () => {
  const [loaded, stack, eksStack] = await Promise.all([loadResourceSpec(), printStack(), printStack(EKS)]);
  spec = loaded;
  byDefault = packagedResources(stack);
  withEks = packagedResources(eksStack);
}, 90_000);

describe('the stack against the CloudFormation resource specification', () => {
  it('uses only resource types, properties and Fn::GetAtt attributes AWS defines, and gives every required property', () => {
    expect(Object.keys(byDefault.Resources).length).toBeGreaterThan(20);
    expect(specViolations(spec, byDefault)).toEqual([]);
  });

  it('conforms as well with the EKS cluster parameters set', () => {
    expect(Object.values(withEks.Resources).map((r) => r.Type)).toContain('AWS::EKS::AccessEntry');
    expect(specViolations(spec, withEks)).toEqual([]);
  });
});

describe('the check itself', () => {
  /** A copy of the default template with one resource's Properties changed by `change`. */
  function mutated(id: string, change: (properties: Record<string, unknown>) => void): TemplateUnderCheck {
    const copy = structuredClone(byDefault);
    const resource = copy.Resources[id];
    expect(resource?.Properties, id).toBeDefined();
    change(resource!.Properties!);
    return copy;
  }

  it('finds a required property removed', () => {
    const found = specViolations(
      spec,
      mutated('RunTable', (p) => delete p.KeySchema),
    );
    expect(found).toEqual(['RunTable: required property KeySchema is missing']);
  });

  it('finds a misspelt property, at the top and inside a property type', () => {
    const topLevel = mutated('RunTable', (p) => {
      p.BillingMod = p.BillingMode;
      delete p.BillingMode;
    });
    expect(specViolations(spec, topLevel)).toEqual(['RunTable: property BillingMod is not in the specification']);

    const nested = mutated('EvidenceBucket', (p) => {
      const rule = (p.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> }).Rules[0]!;
      rule.Stauts = rule.Status;
      delete rule.Status;
    });
    expect(specViolations(spec, nested)).toEqual([
      'EvidenceBucket.LifecycleConfiguration.Rules[0]: required property Status is missing',
      'EvidenceBucket.LifecycleConfiguration.Rules[0]: property Stauts is not in the specification',
    ]);
  });

  it('follows both branches of Fn::If, and takes any other intrinsic in place of a value', () => {
    const conditional = mutated('RunTable', (p) => {
      p.BillingMode = { 'Fn::If': ['HasEksCluster', 'PAY_PER_REQUEST', { Ref: 'AWS::NoValue' }] };
      p.SSESpecification = { 'Fn::If': ['HasEksCluster', { SSEEnabled: true }, { SSEEnabld: true }] };
    });
    expect(specViolations(spec, conditional)).toEqual([
      'RunTable.SSESpecification: required property SSEEnabled is missing',
      'RunTable.SSESpecification: property SSEEnabld is not in the specification',
    ]);
  });

  it('finds an unknown resource type and an attribute the referenced type does not have', () => {
    const copy = structuredClone(byDefault);
    copy.Resources.Extra = { Type: 'AWS::S3::Bukket', Properties: {} };
    copy.Outputs = {
      ...copy.Outputs,
      Broken: { Value: { 'Fn::GetAtt': ['RunTable', 'StreamArnn'] } },
      Missing: { Value: { 'Fn::Sub': '${NoSuchQueue.Arn}' } },
    };
    expect(specViolations(spec, copy)).toEqual([
      'Extra: type AWS::S3::Bukket is not in the specification',
      'Fn::GetAtt RunTable.StreamArnn: AWS::DynamoDB::Table has no attribute StreamArnn',
      'Fn::GetAtt NoSuchQueue.Arn: no resource NoSuchQueue in the template',
    ]);
  });
});
