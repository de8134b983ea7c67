import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/http-api.ts';
import { CommandStatusEventSchema } from '../../functions/ssm-command-status.ts';
import { ScheduledStartEventSchema } from '../../functions/start-audit.ts';
import { SweepEventSchema } from '../../functions/sweep.ts';
import { RUN_TABLE, runTableDefinition } from '../../lib/adapters/dynamo-run-store.ts';

/**
 * serverless.yml and infra/: every file referenced exists, and the configuration osls resolves (offline,
 * without AWS credentials) holds together with the code: handlers, event shapes, table keys, IAM.
 */

const ROOT = new URL('../..', import.meta.url).pathname;
const OSLS = join(ROOT, 'node_modules', '.bin', 'osls');

function configFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
    );
  return [
    join(ROOT, 'serverless.yml'),
    ...walk(join(ROOT, 'infra')).filter((f) => /\.(ya?ml|json|cjs)$/.test(f) && !f.includes(`${join('infra', 'k8s')}`)),
  ];
}

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

let printed: Json;

beforeAll(async () => {
  // Offline and without credentials, as `npm run package` must work.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SLS_TELEMETRY_DISABLED: '1' };
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [OSLS, 'print', '--format', 'json', '--stage', 'dev', '--region', 'eu-west-1'],
    { cwd: ROOT, env, maxBuffer: 32 * 1024 * 1024 },
  );
  printed = JSON.parse(stdout) as Json;
}, 60_000);

const resources = (): Record<string, { Type: string; Properties: Json }> =>
  (printed.resources as Json).Resources as Record<string, { Type: string; Properties: Json }>;
const functions = (): Record<string, Json> => printed.functions as Record<string, Json>;
const statementsOf = (role: string): Statement[] =>
  (resources()[role]!.Properties.Policies as Array<{ PolicyDocument: { Statement: unknown[] } }>)[0]!.PolicyDocument.Statement.filter(
    (s): s is Statement => typeof s === 'object' && s !== null && 'Effect' in s,
  );
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('serverless.yml and infra/', () => {
  it('reference only files that exist', () => {
    const missing: string[] = [];
    for (const file of configFiles().filter((f) => /\.ya?ml$/.test(f))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\$\{file\(([^)]+)\)/g)) {
        if (!existsSync(join(ROOT, match[1]!))) missing.push(`${relative(ROOT, file)} → ${match[1]}`);
      }
    }
    for (const plugin of printed.plugins as string[]) {
      if (plugin.startsWith('.') && !existsSync(join(ROOT, plugin))) missing.push(`serverless.yml plugins → ${plugin}`);
    }
    expect(missing).toEqual([]);
    expect(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')).toMatch(/\$\{file\(infra\/functions\.yml\)\}/);
  });

  it('never ask AWS for anything while packaging (no ${aws:…} or ${ssm:…}, ${cf:…}, ${s3:…} variables)', () => {
    for (const file of configFiles()) expect(readFileSync(file, 'utf8'), relative(ROOT, file)).not.toMatch(/\$\{(aws|ssm|cf|s3):/);
  });

  it('name a handler module exporting `handler` for every function, bundled for Node 24 on arm64', async () => {
    const provider = printed.provider as Json;
    expect(provider).toMatchObject({ runtime: 'nodejs24.x', architecture: 'arm64' });
    expect(Object.keys(functions()).sort()).toEqual(['httpApi', 'ssmCommandStatus', 'startAudit', 'sweep']);
    for (const [name, fn] of Object.entries(functions())) {
      const [module, exported] = String(fn.handler).split(/\.(?=[^.]+$)/) as [string, string];
      expect(existsSync(join(ROOT, `${module}.ts`)), name).toBe(true);
      const loaded = (await import(join(ROOT, `${module}.ts`))) as Record<string, unknown>;
      expect(typeof loaded[exported], name).toBe('function');
      expect(resources()[String(fn.role)]?.Type, `${name} role`).toBe('AWS::IAM::Role');
    }
    expect((printed.custom as Json).esbuild).toMatchObject({
      format: 'esm',
      target: 'node24',
      platform: 'node',
      outputFileExtension: '.mjs',
    });
  });

  it('deliver the events the handlers parse', () => {
    const eventsOf = (name: string) => functions()[name]!.events as Array<Record<string, Json>>;
    const targetOf = (schedule: string) => resources()[schedule]!.Properties.Target as { Arn: unknown; Input: string };
    const filled = (input: string) => JSON.parse(input.replace('<aws.scheduler.scheduled-time>', '2026-03-01T06:00:00Z')) as unknown;
    expect(targetOf('StartAuditSchedule').Arn).toEqual({ 'Fn::GetAtt': ['StartAuditLambdaFunction', 'Arn'] });
    expect(ScheduledStartEventSchema.safeParse(filled(targetOf('StartAuditSchedule').Input)).success).toBe(true);
    expect(targetOf('SweepSchedule').Arn).toEqual({ 'Fn::GetAtt': ['SweepLambdaFunction', 'Arn'] });
    expect(SweepEventSchema.safeParse(filled(targetOf('SweepSchedule').Input)).success).toBe(true);

    const rule = resources().CommandStatusRule!.Properties as {
      EventPattern: { source: string[]; 'detail-type': string[]; detail: { status: string[] } };
      Targets: Array<{ Arn: unknown }>;
    };
    expect(rule.Targets.map((t) => t.Arn)).toEqual([{ 'Fn::GetAtt': ['SsmCommandStatusLambdaFunction', 'Arn'] }]);
    const pattern = rule.EventPattern;
    for (const status of pattern.detail.status) {
      const sample = {
        source: pattern.source[0],
        'detail-type': pattern['detail-type'][0],
        detail: { 'command-id': 'c', 'document-name': 'd', status },
      };
      expect(CommandStatusEventSchema.safeParse(sample).success, status).toBe(true);
    }
    expect(resources().CommandStatusRulePermission!.Properties).toMatchObject({
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['CommandStatusRule', 'Arn'] },
    });

    const routes = eventsOf('httpApi').map((e) => e.httpApi!);
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual([...ROUTES].sort());
    for (const route of routes) expect(route.authorizer).toEqual({ type: 'aws_iam' });
  });

  it('declare the run table the registry expects, with TTL and on-demand capacity', () => {
    const table = resources().RunTable!.Properties;
    const { TableName: _name, ...expected } = runTableDefinition('x');
    expect(table).toMatchObject(expected);
    expect(table.AttributeDefinitions).toEqual(expected.AttributeDefinitions);
    expect(table.GlobalSecondaryIndexes).toEqual(expected.GlobalSecondaryIndexes);
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: RUN_TABLE.ttlAttribute, Enabled: true });
  });

  it('keep the evidence bucket private, encrypted and TLS-only', () => {
    const bucket = resources().EvidenceBucket!.Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(JSON.stringify(bucket.BucketEncryption)).toContain('AES256');
    const policy = resources().EvidenceBucketPolicy!.Properties.PolicyDocument as {
      Statement: Array<{ Effect: string; Condition: unknown }>;
    };
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('give each function only what it needs: SendCommand on our document and tagged nodes, S3 under runs/ (and the waivers under config/)', () => {
    const readOnlyWithoutResources = new Set([
      'ssm:DescribeInstanceInformation',
      'ssm:ListCommands',
      'ssm:ListCommandInvocations',
      'ssm:GetCommandInvocation',
    ]);
    for (const role of ['StartAuditRole', 'SsmCommandStatusRole', 'SweepRole', 'HttpApiRole']) {
      for (const statement of statementsOf(role)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of actions(statement)) expect(action, `${role} ${statement.Sid}`).not.toMatch(/\*/);
        if (statement.Resource === '*')
          for (const action of actions(statement)) expect(readOnlyWithoutResources.has(action), `${role}: ${action} on *`).toBe(true);
        const text = JSON.stringify(statement.Resource);
        if (actions(statement).some((a) => a.startsWith('s3:'))) expect(text, `${role} ${statement.Sid}`).toMatch(/EvidenceBucket/);
        // The stage's waivers object is the one thing read outside runs/: under config/, and only read.
        if (statement.Sid === 'ReadWaivers')
          expect({ actions: actions(statement), resource: text }, role).toEqual({
            actions: ['s3:GetObject'],
            resource: JSON.stringify({ 'Fn::Sub': '${EvidenceBucket.Arn}/config/*' }),
          });
        else if (actions(statement).some((a) => a.startsWith('s3:') && a !== 's3:ListBucket'))
          expect(text, `${role} ${statement.Sid}`).toContain('/runs/');
        if (actions(statement).some((a) => a.startsWith('dynamodb:'))) expect(text, `${role} ${statement.Sid}`).toMatch(/RunTable/);
      }
    }
    for (const role of ['StartAuditRole', 'HttpApiRole']) {
      const send = statementsOf(role).filter((s) => actions(s).includes('ssm:SendCommand'));
      expect(send.map((s) => s.Sid).sort()).toEqual(['SendOurDocument', 'SendToTaggedNodes']);
      expect(JSON.stringify(send.find((s) => s.Sid === 'SendOurDocument')!.Resource)).toContain(':document/${DiagnosticsDocument}');
      expect(send.find((s) => s.Sid === 'SendToTaggedNodes')!.Condition).toEqual({ StringLike: { 'ssm:resourceTag/istio-vm': '*' } });
    }
    for (const role of ['SsmCommandStatusRole', 'SweepRole']) {
      expect(statementsOf(role).flatMap(actions)).not.toContain('ssm:SendCommand');
    }
    const scheduler = resources().SchedulerRole!.Properties;
    expect(JSON.stringify(scheduler.Policies)).toMatch(/"Action":"lambda:InvokeFunction"/);
    expect(JSON.stringify(scheduler.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
  });

  it('use CloudFormation pseudo parameters for the account, not a lookup', () => {
    const text = JSON.stringify(printed.resources);
    expect(text).toContain('${AWS::AccountId}');
    expect(text).not.toMatch(/\d{12}/);
  });

  it('put the generated SSM document into the template untouched by variable resolution', async () => {
    type Plugin = new (serverless: unknown) => { hooks: Record<string, () => void> };
    const Plugin = createRequire(import.meta.url)('../../infra/plugins/ssm-document-content.cjs') as Plugin;
    const document = { Type: 'AWS::SSM::Document', Properties: { Name: 'fleet-audit-dev-diagnostics' } as Json };
    const serverless = {
      serviceDir: ROOT,
      service: { resources: { Resources: { DiagnosticsDocument: document } } },
      utils: { readFileSync: (path: string) => JSON.parse(readFileSync(path, 'utf8')) as unknown },
      classes: { Error },
    };
    new Plugin(serverless).hooks['before:package:finalize']!();
    const expected = JSON.parse(readFileSync(join(ROOT, 'infra', 'ssm', 'fleet-audit-diagnostics.json'), 'utf8')) as Json;
    expect(document.Properties.Content).toEqual(expected);
    // The shell expansions the framework would have taken for its own variables are there, as written.
    expect(JSON.stringify(document.Properties.Content)).toMatch(/\$\{[A-Za-z_]+:-/);
    expect(resources().DiagnosticsDocument).toMatchObject({
      Type: 'AWS::SSM::Document',
      Properties: { DocumentType: 'Command', DocumentFormat: 'JSON' },
    });
    const empty = { ...serverless, service: { resources: { Resources: {} } } };
    expect(() => new Plugin(empty).hooks['before:package:finalize']!()).toThrow(
      'ssm-document-content: no DiagnosticsDocument resource with Properties in resources',
    );
  });

  it('build the target tag condition from the parameters, refusing a key or a value that is not a tag key or value', async () => {
    type Condition = (api: { resolveVariable: (v: string) => Promise<unknown> }) => Promise<unknown>;
    const condition = createRequire(import.meta.url)('../../infra/iam/target-tag-condition.cjs') as Condition;
    const params = (key: string, values: string) => ({
      resolveVariable: async (v: string) => ({ 'param:targetTagKey': key, 'param:targetTagValues': values })[v],
    });
    expect(await condition(params('team:istio vm', ''))).toEqual({ StringLike: { 'ssm:resourceTag/team:istio vm': '*' } });
    expect(await condition(params('istio-vm', ' , '))).toEqual({ StringLike: { 'ssm:resourceTag/istio-vm': '*' } });
    expect(await condition(params('istio-vm', 'prod, prod-eu ,'))).toEqual({
      StringEquals: { 'ssm:resourceTag/istio-vm': ['prod', 'prod-eu'] },
    });
    await expect(condition(params('', 'prod'))).rejects.toThrow('targetTagKey "" is not an EC2 tag key');
    await expect(condition(params('a"}', ''))).rejects.toThrow('is not an EC2 tag key');
    await expect(condition(params('istio-vm', 'prod,a"}'))).rejects.toThrow('targetTagValues: "a\\"}" is not an EC2 tag value');
  });
});
