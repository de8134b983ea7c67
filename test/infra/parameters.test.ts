import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { printStack, resolveIntrinsics, type DeployedNames, type Json, type PrintedStack } from './stack-template.ts';

/**
 * The stage parameters CloudFormation checks before it creates or changes anything: each one's
 * AllowedPattern or bounds take the defaults and refuse what the functions would refuse at cold start, and
 * the rule over the three EKS parameters refuses half a cluster.
 */

const ROOT = new URL('../..', import.meta.url).pathname;
const NAMES: DeployedNames = { partition: 'aws', region: 'eu-west-1', accountId: '111122223333', refs: {}, attributes: {} };

type Parameter = {
  Type: string;
  Default?: unknown;
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
  ConstraintDescription?: string;
};
let stack: PrintedStack;
beforeAll(async () => {
  stack = await printStack();
}, 60_000);
const parameter = (name: string): Parameter => stack.resources.Parameters![name] as Parameter;

/** Whether CloudFormation takes `value` for the parameter (its AllowedPattern must match the whole value). */
function accepts(p: Parameter, value: string): boolean {
  if (p.AllowedPattern !== undefined && !new RegExp(p.AllowedPattern).test(value)) return false;
  if (p.Type === 'Number') {
    const n = Number(value);
    if (!Number.isFinite(n) || (p.MinValue !== undefined && n < p.MinValue) || (p.MaxValue !== undefined && n > p.MaxValue)) return false;
  }
  return true;
}

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n').toString('base64');
const CASES: Record<string, { good: string[]; bad: string[] }> = {
  KmsKeyArn: {
    good: ['', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    bad: ['alias/evidence', 'arn:aws:kms:eu-west-1:1111:key/x'],
  },
  ObjectLockDays: { good: ['0', '365'], bad: ['-1', '40000', 'a year'] },
  RetentionDays: { good: ['1', '400', '3650'], bad: ['0', '3651'] },
  NoncurrentVersionDays: { good: ['1', '30'], bad: ['0'] },
  EksClusterName: { good: ['', 'mesh', 'prod_mesh-1'], bad: ['-mesh', 'mesh.prod', 'a'.repeat(101)] },
  EksClusterEndpoint: {
    good: ['', 'https://ABCDEF0123.gr7.eu-west-1.eks.amazonaws.com'],
    bad: ['http://ABCDEF0123.gr7.eu-west-1.eks.amazonaws.com', 'ABCDEF0123.gr7.eu-west-1.eks.amazonaws.com', 'https://x/../y'],
  },
  EksClusterCa: { good: ['', CA], bad: ['-----BEGIN CERTIFICATE-----', 'not base64!'] },
  MetricsNamespace: { good: ['FleetAudit', 'Platform/FleetAudit'], bad: ['', 'AWS/Lambda', 'Fleet Audit'] },
  AlarmEmail: { good: ['', 'ops@example.com'], bad: ['ops', 'ops@example', 'a b@example.com'] },
  AuditScheduleExpression: { good: ['cron(0 6 * * ? *)', 'rate(12 hours)'], bad: ['0 6 * * *', 'rate(0 hours)', 'daily'] },
  AuditScheduleTimezone: {
    good: ['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+1'],
    bad: ['', 'Europe Paris', '+01:00'],
  },
  SweepScheduleExpression: { good: ['rate(5 minutes)', 'rate(1 hour)'], bad: ['rate(1 day)', 'cron(*/5 * * * ? *)', 'rate(five minutes)'] },
};

describe('the stack parameters', () => {
  it('take their defaults (a deploy with the default parameters passes) and refuse what is malformed, saying which parameter', () => {
    for (const [name, { good, bad }] of Object.entries(CASES)) {
      const p = parameter(name);
      expect(p, name).toBeDefined();
      expect(accepts(p, String(p.Default)), `${name} default ${String(p.Default)}`).toBe(true);
      for (const value of good) expect(accepts(p, value), `${name} = ${value}`).toBe(true);
      for (const value of bad) expect(accepts(p, value), `${name} = ${value}`).toBe(false);
      // CloudFormation shows the ConstraintDescription when it refuses a value: it names the stage parameter.
      const stageParameter = name.replace(/Expression$/, '').replace(/^./, (c) => c.toLowerCase());
      if (p.AllowedPattern !== undefined) expect(p.ConstraintDescription, name).toMatch(new RegExp(`^${stageParameter} must `));
    }
  });

  it('reach the functions and the schedules from the parameters, not from literals', () => {
    const env = (stack.provider as Json).environment as Json;
    expect(env).toMatchObject({
      EKS_CLUSTER_NAME: { Ref: 'EksClusterName' },
      EKS_CLUSTER_ENDPOINT: { Ref: 'EksClusterEndpoint' },
      EKS_CLUSTER_CA: { Ref: 'EksClusterCa' },
      AUDIT_RETENTION_DAYS: { Ref: 'RetentionDays' },
    });
    const schedules = stack.resources.Resources;
    expect(schedules.StartAuditSchedule!.Properties).toMatchObject({
      ScheduleExpression: { Ref: 'AuditScheduleExpression' },
      ScheduleExpressionTimezone: { Ref: 'AuditScheduleTimezone' },
    });
    expect(schedules.SweepSchedule!.Properties).toMatchObject({ ScheduleExpression: { Ref: 'SweepScheduleExpression' } });
  });
});

describe('the rule over the EKS parameters', () => {
  const TemplateRules = createRequire(import.meta.url)('../../infra/plugins/template-rules.cjs') as new (serverless: unknown) => {
    hooks: Record<string, () => void>;
  };

  /** The Rules section the plugin puts into a compiled template. */
  function rulesOfTemplate(): Json {
    const template: Json = { Resources: {} };
    const serverless = {
      service: { provider: { compiledCloudFormationTemplate: template } },
      serviceDir: ROOT,
      utils: { readFileSync: (path: string) => JSON.parse(readFileSync(path, 'utf8')) as unknown },
      classes: { Error },
    };
    new TemplateRules(serverless).hooks['before:package:finalize']!();
    return template.Rules as Json;
  }

  /** Whether every assertion holds for these parameter values. */
  function holds(values: { EksClusterName: string; EksClusterEndpoint: string; EksClusterCa: string }): boolean {
    const rule = rulesOfTemplate().EksClusterAllOrNone as { Assertions: Array<{ Assert: unknown; AssertDescription: string }> };
    const parameters = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { Type: 'String', Default: v }]));
    const withValues: PrintedStack = { ...stack, resources: { ...stack.resources, Parameters: parameters } };
    return rule.Assertions.every((a) => resolveIntrinsics(a.Assert, withValues, NAMES) === true);
  }

  it('takes all three set or none, and refuses one or two of them', () => {
    const set = { EksClusterName: 'mesh', EksClusterEndpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', EksClusterCa: CA };
    const none = { EksClusterName: '', EksClusterEndpoint: '', EksClusterCa: '' };
    expect(holds(none)).toBe(true);
    expect(holds(set)).toBe(true);
    expect(holds({ ...none, EksClusterName: 'mesh' })).toBe(false);
    expect(holds({ ...set, EksClusterCa: '' })).toBe(false);
    const description = (rulesOfTemplate().EksClusterAllOrNone as { Assertions: Array<{ AssertDescription: string }> }).Assertions[0]!
      .AssertDescription;
    expect(description).toMatch(/eksClusterName, eksClusterEndpoint and eksClusterCa/);
  });

  it('is in the template osls packages', () => {
    expect(stack.plugins as string[]).toContain('./infra/plugins/template-rules.cjs');
  });
});
