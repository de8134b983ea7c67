import { beforeAll, describe, expect, it } from 'vitest';
import { RUN_TABLE } from '../../lib/adapters/dynamo-run-store.ts';
import { printStack, resolveIntrinsics, type DeployedNames, type Json, type PrintedStack } from './stack-template.ts';

/**
 * What keeps the deployed stack operable, read from the template serverless.yml generates: every
 * asynchronous trigger has somewhere to put what failed, failures raise alarms, sweeps never overlap,
 * and the bucket does not grow for ever.
 */

let stack: PrintedStack;
let withEmail: PrintedStack;

beforeAll(async () => {
  [stack, withEmail] = await Promise.all([printStack(), printStack({ alarmEmail: 'ops@example.com', retentionDays: '30' })]);
}, 60_000);

const resources = (from: PrintedStack = stack) => from.resources.Resources;
const ofType = (type: string, from: PrintedStack = stack) => Object.entries(resources(from)).filter(([, r]) => r.Type === type);
const getAtt = (resource: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [resource, attribute] });
const DLQ = getAtt('TriggerDeadLetterQueue');
const NAMES: DeployedNames = { partition: 'aws', region: 'eu-west-1', accountId: '111122223333', refs: {}, attributes: {} };

describe('the asynchronous triggers', () => {
  it('are all declared by the stack itself, none left to function events without a dead-letter queue', () => {
    for (const [name, fn] of Object.entries(stack.functions)) {
      const kinds = ((fn.events as Array<Record<string, unknown>> | undefined) ?? []).flatMap((e) => Object.keys(e));
      // Only the HTTP API is left, and it is synchronous.
      expect(
        kinds.filter((k) => k !== 'httpApi'),
        name,
      ).toEqual([]);
    }
  });

  it('put what a schedule could not deliver in the dead-letter queue, after a bounded retry', () => {
    const schedules = ofType('AWS::Scheduler::Schedule');
    expect(schedules.map(([name]) => name).sort()).toEqual(['StartAuditSchedule', 'SweepSchedule']);
    for (const [name, schedule] of schedules) {
      const target = schedule.Properties.Target as Json;
      expect(target.DeadLetterConfig, name).toEqual({ Arn: DLQ });
      expect(target.RetryPolicy, name).toMatchObject({
        MaximumRetryAttempts: expect.any(Number),
        MaximumEventAgeInSeconds: expect.any(Number),
      });
      expect(target.RoleArn, name).toEqual(getAtt('SchedulerRole'));
    }
    // Scheduler sends to the queue with its execution role.
    const statements = (resources().SchedulerRole!.Properties.Policies as Array<{ PolicyDocument: { Statement: Json[] } }>)[0]!
      .PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: DLQ }));
  });

  it('put what the SSM event rule could not deliver in the dead-letter queue, which lets that rule alone send', () => {
    const rules = ofType('AWS::Events::Rule');
    expect(rules.map(([name]) => name)).toEqual(['CommandStatusRule']);
    for (const target of rules[0]![1].Properties.Targets as Json[]) {
      expect(target.DeadLetterConfig).toEqual({ Arn: DLQ });
      expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) });
    }
    const policy = resources().TriggerDeadLetterQueuePolicy!.Properties;
    expect(policy.Queues).toEqual([{ Ref: 'TriggerDeadLetterQueue' }]);
    const statements = (policy.PolicyDocument as { Statement: Json[] }).Statement;
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: DLQ,
        Condition: { ArnEquals: { 'aws:SourceArn': getAtt('CommandStatusRule') } },
      }),
    ]);
  });

  it('give every asynchronously invoked function an on-failure destination and a retry count, and its role the right to use it', () => {
    const configs = new Map(
      ofType('AWS::Lambda::EventInvokeConfig').map(([, r]) => [JSON.stringify(r.Properties.FunctionName), r.Properties]),
    );
    const roles: Record<string, string> = {
      StartAuditLambdaFunction: 'StartAuditRole',
      SsmCommandStatusLambdaFunction: 'SsmCommandStatusRole',
      SweepLambdaFunction: 'SweepRole',
    };
    expect(configs.size).toBe(Object.keys(roles).length);
    for (const [fn, role] of Object.entries(roles)) {
      const config = configs.get(JSON.stringify({ Ref: fn }));
      expect(config, fn).toMatchObject({
        Qualifier: '$LATEST',
        MaximumRetryAttempts: expect.any(Number),
        DestinationConfig: { OnFailure: { Destination: DLQ } },
      });
      const statements = (resources()[role]!.Properties.Policies as Array<{ PolicyDocument: { Statement: Json[] } }>)[0]!.PolicyDocument
        .Statement;
      expect(statements, role).toContainEqual(expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: DLQ }));
    }
    // A start that failed halfway must not send its commands a second time.
    expect(configs.get(JSON.stringify({ Ref: 'StartAuditLambdaFunction' }))!.MaximumRetryAttempts).toBe(0);
  });

  it('keep dead letters two weeks, encrypted, and only over TLS', () => {
    const queue = resources().TriggerDeadLetterQueue!.Properties;
    expect(queue).toMatchObject({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    const statements = (resources().TriggerDeadLetterQueuePolicy!.Properties.PolicyDocument as { Statement: Json[] }).Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });
});

describe('alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([name, r]) => [name, r.Properties] as const);
  const dimension = (alarm: Json) => (alarm.Dimensions as Array<{ Name: string; Value: unknown }>)[0];

  it('fire on any message in the dead-letter queue', () => {
    const onQueue = alarms().filter(([, a]) => a.Namespace === 'AWS/SQS');
    expect(onQueue).toHaveLength(1);
    expect(onQueue[0]![1]).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(dimension(onQueue[0]![1])).toEqual({ Name: 'QueueName', Value: getAtt('TriggerDeadLetterQueue', 'QueueName') });
  });

  it('fire on the errors of every function, and on the API answering 5xx', () => {
    const watched = alarms()
      .filter(([, a]) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'Errors')
      .map(([, a]) => dimension(a)!.Value);
    expect(watched).toEqual(
      expect.arrayContaining(
        Object.keys(stack.functions).map((name) => ({ Ref: `${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction` })),
      ),
    );
    expect(watched).toHaveLength(Object.keys(stack.functions).length);
    const api = alarms().filter(([, a]) => a.Namespace === 'AWS/ApiGateway');
    expect(api.map(([, a]) => [a.MetricName, dimension(a)])).toEqual([['5xx', { Name: 'ApiId', Value: { Ref: 'HttpApi' } }]]);
  });

  it("watch the runs the sweeps keep finding overdue, in the functions' own metric namespace", () => {
    const overdue = alarms().filter(([, a]) => a.MetricName === 'RunsOverdue');
    expect(overdue.map(([name]) => name)).toEqual(['RunsOverdueAlarm']);
    expect(overdue[0]![1]).toMatchObject({
      Namespace: { Ref: 'MetricsNamespace' },
      Dimensions: [{ Name: 'service', Value: 'fleet-audit' }],
      Statistic: 'Minimum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect((stack.provider as Json & { environment: Json }).environment.METRICS_NAMESPACE).toEqual({ Ref: 'MetricsNamespace' });
    expect(resolveIntrinsics({ Ref: 'MetricsNamespace' }, stack, NAMES)).toBe('FleetAudit');
  });

  it('all tell the one SNS topic, at once and when they clear, and never alarm on missing data', () => {
    expect(alarms().length).toBeGreaterThan(0);
    for (const [name, alarm] of alarms()) {
      expect(alarm, name).toMatchObject({
        AlarmActions: [{ Ref: 'AlarmTopic' }],
        OKActions: [{ Ref: 'AlarmTopic' }],
        TreatMissingData: 'notBreaching',
      });
      // At once, but for runs overdue: one sweep finding some is the sweep doing its work.
      expect(alarm.EvaluationPeriods, name).toBe(name === 'RunsOverdueAlarm' ? 6 : 1);
    }
    expect(resources().AlarmTopic!.Type).toBe('AWS::SNS::Topic');
  });

  it('subscribe the alarm email when one is configured, and nothing otherwise', () => {
    const names: DeployedNames = { ...NAMES };
    const subscribed = (from: PrintedStack) =>
      resolveIntrinsics({ Condition: resources(from).AlarmEmailSubscription!.Condition }, from, names);
    expect(resources().AlarmEmailSubscription!.Properties).toMatchObject({
      Protocol: 'email',
      TopicArn: { Ref: 'AlarmTopic' },
      Endpoint: { Ref: 'AlarmEmail' },
    });
    expect(subscribed(stack)).toBe(false);
    expect(subscribed(withEmail)).toBe(true);
    expect(withEmail.resources.Parameters).toMatchObject({ AlarmEmail: { Default: 'ops@example.com' } });
  });
});

describe('the functions', () => {
  it('run one sweep at a time', () => {
    expect(stack.functions.sweep!.reservedConcurrency).toBe(1);
    // Collection and the API scale with the fleet; one start per schedule needs no cap.
    for (const name of ['startAudit', 'ssmCommandStatus', 'httpApi'])
      expect(stack.functions[name]!.reservedConcurrency, name).toBeUndefined();
  });
});

describe('the evidence bucket lifecycle', () => {
  type Rule = Json & { Id: string; Status: string };
  const rules = (from: PrintedStack) => (resources(from).EvidenceBucket!.Properties.LifecycleConfiguration as { Rules: Rule[] }).Rules;
  const rule = (from: PrintedStack, id: string) => rules(from).find((r) => r.Id === id);
  const parameter = (from: PrintedStack, name: string) => resolveIntrinsics({ Ref: name }, from, NAMES);

  it('expires every run after the retention the run table keeps its records, noncurrent versions included', () => {
    const expiry = rule(stack, 'expire-runs');
    expect(expiry).toMatchObject({
      Status: 'Enabled',
      Prefix: 'runs/',
      ExpirationInDays: { Ref: 'RetentionDays' },
      NoncurrentVersionExpiration: { NoncurrentDays: { Ref: 'NoncurrentVersionDays' } },
    });
    expect(parameter(stack, 'RetentionDays')).toBe('400');
    expect(parameter(stack, 'NoncurrentVersionDays')).toBe('30');
    // One parameter for both stores: the table's TTL and the bucket's expiry never disagree.
    expect((stack.provider as Json & { environment: Json }).environment.AUDIT_RETENTION_DAYS).toEqual({ Ref: 'RetentionDays' });
    expect(parameter(withEmail, 'RetentionDays')).toBe('30');
    expect(RUN_TABLE.ttlAttribute).toBe('expiresAt');
  });

  it('removes the delete markers expiry leaves, and aborts incomplete uploads', () => {
    expect(rule(stack, 'remove-expired-delete-markers')).toMatchObject({ Status: 'Enabled', ExpiredObjectDeleteMarker: true });
    expect(rule(stack, 'abort-incomplete-uploads')).toMatchObject({
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    });
  });
});

describe("the functions' limits", () => {
  it('give the finalizing functions the memory of their analysis, and the others what they hold', () => {
    const limits = Object.fromEntries(Object.entries(stack.functions).map(([name, fn]) => [name, [fn.memorySize, fn.timeout]]));
    expect(limits).toEqual({ startAudit: [512, 300], ssmCommandStatus: [2048, 900], sweep: [2048, 900], httpApi: [512, 29] });
  });
});

describe('the parameters the template branches on', () => {
  it('are CloudFormation parameters defaulting to the stage parameters, so no branch holds an empty literal', () => {
    expect(Object.keys(stack.resources.Parameters ?? {}).sort()).toEqual([
      'AlarmEmail',
      'AuditScheduleExpression',
      'AuditScheduleTimezone',
      'EksClusterCa',
      'EksClusterEndpoint',
      'EksClusterName',
      'KmsKeyArn',
      'MetricsNamespace',
      'NoncurrentVersionDays',
      'ObjectLockDays',
      'RetentionDays',
      'SsmCompliance',
      'SweepScheduleExpression',
      'WaiversKey',
    ]);
    const conditions = JSON.stringify(stack.resources.Conditions);
    expect(conditions).not.toMatch(/\{"Fn::Equals":\["[^"]*","[^"]*"\]\}/);
    for (const name of ['UseKms', 'UseObjectLock', 'HasEksCluster', 'HasAlarmEmail']) {
      expect(resolveIntrinsics({ Condition: name }, stack, NAMES), name).toBe(false);
    }
  });
});
