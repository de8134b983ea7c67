import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The stack as serverless.yml generates it (`osls print`, offline and without AWS credentials), and its
 * CloudFormation intrinsics resolved for one imagined account, so that a policy can be evaluated as AWS
 * would evaluate the deployed one.
 */

const ROOT = new URL('../..', import.meta.url).pathname;
const OSLS = join(ROOT, 'node_modules', '.bin', 'osls');

export type Json = Record<string, unknown>;
export interface PrintedStack {
  resources: {
    Resources: Record<string, { Type: string; Condition?: string; Properties: Json }>;
    Parameters?: Record<string, { Type: string; Default?: unknown }>;
    Conditions?: Record<string, unknown>;
    Outputs?: Json;
  };
  functions: Record<string, Json>;
  [key: string]: unknown;
}

/** `osls print` for the dev stage, with any `--param` overrides. */
export async function printStack(params: Record<string, string> = {}): Promise<PrintedStack> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SLS_TELEMETRY_DISABLED: '1' };
  const args = [
    OSLS,
    'print',
    '--format',
    'json',
    '--stage',
    'dev',
    '--region',
    'eu-west-1',
    ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`),
  ];
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, env, maxBuffer: 32 * 1024 * 1024 });
  return JSON.parse(stdout) as PrintedStack;
}

/** What the resolver substitutes: the account, and each resource's Ref and attributes once deployed. */
export interface DeployedNames {
  partition: string;
  region: string;
  accountId: string;
  refs: Record<string, string>;
  attributes: Record<string, string>;
}

/** Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::If and the condition functions; anything else is refused, never guessed. */
export function resolveIntrinsics(value: unknown, stack: PrintedStack, names: DeployedNames): unknown {
  const pseudo: Record<string, string> = {
    'AWS::Partition': names.partition,
    'AWS::Region': names.region,
    'AWS::AccountId': names.accountId,
  };
  const ref = (name: string): string => {
    // A template parameter takes its default: the stage parameter it was generated from.
    const parameter = stack.resources.Parameters?.[name]?.Default;
    const found = pseudo[name] ?? names.refs[name] ?? (parameter === undefined ? undefined : String(parameter));
    if (found === undefined) throw new Error(`no deployed value for Ref ${name}`);
    return found;
  };
  const attribute = (path: string): string => {
    const found = names.attributes[path];
    if (found === undefined) throw new Error(`no deployed value for Fn::GetAtt ${path}`);
    return found;
  };
  const condition = (name: string): boolean => {
    const definition = stack.resources.Conditions?.[name];
    if (definition === undefined) throw new Error(`no condition ${name}`);
    return walk(definition) === true;
  };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk).filter((item) => item !== NO_VALUE);
    if (typeof node !== 'object' || node === null) return node;
    const entries = Object.entries(node as Json);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      if (fn === 'Ref') return arg === 'AWS::NoValue' ? NO_VALUE : ref(String(arg));
      if (fn === 'Fn::GetAtt') return attribute(Array.isArray(arg) ? arg.join('.') : String(arg));
      if (fn === 'Fn::Sub') {
        if (typeof arg !== 'string') throw new Error('Fn::Sub with a variable map is not resolved here');
        return arg.replace(/\$\{(!?)([^}]+)\}/g, (_all, bang: string, name: string) =>
          bang ? `\${${name}}` : name.includes('.') ? attribute(name) : ref(name),
        );
      }
      if (fn === 'Fn::If') {
        const [name, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        return walk(condition(name) ? whenTrue : whenFalse);
      }
      if (fn === 'Fn::Equals') {
        const [a, b] = (arg as unknown[]).map(walk);
        return JSON.stringify(a) === JSON.stringify(b);
      }
      if (fn === 'Fn::Not') return !(walk((arg as unknown[])[0]) as boolean);
      if (fn === 'Fn::And') return (arg as unknown[]).every((c) => walk(c) === true);
      if (fn === 'Fn::Or') return (arg as unknown[]).some((c) => walk(c) === true);
      if (fn === 'Condition') return condition(String(arg));
      if (fn.startsWith('Fn::')) throw new Error(`${fn} is not resolved here`);
    }
    const out: Json = {};
    for (const [key, child] of entries) {
      const resolved = walk(child);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  };
  return walk(value);
}

const NO_VALUE = Symbol('AWS::NoValue');

/** True when a condition named in the template holds for this stack's parameters. */
export function conditionHolds(stack: PrintedStack, name: string, names: DeployedNames): boolean {
  return resolveIntrinsics({ Condition: name }, stack, names) === true;
}
