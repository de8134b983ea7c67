/**
 * A deployed function's limits as the deployment declares them (serverless.yml and infra/functions.yml):
 * its timeout, and its memory (its own memorySize, else the provider's).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CORE_SCHEMA, load } from 'js-yaml';

export interface FunctionLimits {
  function: string;
  timeoutSeconds: number;
  memoryMiB: number;
}

// Lambda's defaults, when the deployment names none.
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
const LAMBDA_DEFAULT_MEMORY_MIB = 128;

// `!GetAtt X.Arn` becomes the string `GetAtt X.Arn`: a CloudFormation short tag is not YAML that a loader knows.
const CLOUDFORMATION_SHORT_TAG = /(^|[\s[,])!(?=[A-Z][A-Za-z0-9]*\b)/gm;

export async function functionLimits(name: string): Promise<FunctionLimits> {
  const service = await readYaml('../serverless.yml');
  const functions = await readYaml('../infra/functions.yml');
  const fn = record(functions[name]);
  if (Object.keys(fn).length === 0) throw new Error(`infra/functions.yml declares no function ${name}`);
  const provider = record(service.provider);
  return {
    function: name,
    timeoutSeconds: numberOr(fn.timeout, numberOr(provider.timeout, LAMBDA_DEFAULT_TIMEOUT_SECONDS)),
    memoryMiB: numberOr(fn.memorySize, numberOr(provider.memorySize, LAMBDA_DEFAULT_MEMORY_MIB)),
  };
}

async function readYaml(relative: string): Promise<Record<string, unknown>> {
  const text = await readFile(fileURLToPath(new URL(relative, import.meta.url)), 'utf8');
  return record(load(text.replace(CLOUDFORMATION_SHORT_TAG, '$1'), { schema: CORE_SCHEMA }));
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
