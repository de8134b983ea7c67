import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { Property, PropertyType, Resource } from '@aws-cdk/service-spec-types';

/**
 * Checks a CloudFormation template against AWS's own resource specification (the CDK's service database,
 * generated from the CloudFormation registry schemas): types, property names at every depth, required
 * properties and the attributes Fn::GetAtt reads. Value formats are not checked: CloudFormation converts
 * strings and numbers itself, and an intrinsic function may stand in place of any value.
 */

export type ResourceSpec = Awaited<ReturnType<typeof loadAwsServiceSpec>>;
type Json = Record<string, unknown>;

/** The resources of a template, and the type of any resource the framework adds when it packages the stack. */
export interface TemplateUnderCheck {
  Resources: Record<string, { Type: string; Properties?: Json }>;
  Outputs?: Json;
  /** Logical id → type for resources the template refers to but is not given here (the framework's functions). */
  generated?: Record<string, string>;
  /** Other parts of the stack in which Fn::GetAtt may appear (the functions' environment, say). */
  elsewhere?: unknown;
}

/** Loads the specification once; it takes a second or two to unzip and index. */
export function loadResourceSpec(): Promise<ResourceSpec> {
  return loadAwsServiceSpec();
}

/** The logical id the framework gives a function's AWS::Lambda::Function resource. */
export function lambdaLogicalId(functionName: string): string {
  const normalized = functionName.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized.charAt(0).toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}

function resourceType(spec: ResourceSpec, type: string): Resource | undefined {
  return spec.lookup('resource', 'cloudFormationType', 'equals', type)[0];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ "Ref": … }`, `{ "Fn::…": … }` or `{ "Condition": … }`: a value CloudFormation computes at deploy time. */
function intrinsicName(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0]!;
  return key === 'Ref' || key === 'Condition' || key.startsWith('Fn::') ? key : undefined;
}

/**
 * Every way `value` departs from `type`, each saying where. Fn::If is followed into both branches, since
 * either may be deployed; any other intrinsic is taken as a value of the right type.
 */
function valueViolations(spec: ResourceSpec, value: unknown, type: PropertyType, path: string): string[] {
  const fn = intrinsicName(value);
  if (fn === 'Fn::If') {
    const branches = ((value as Json)[fn] as unknown[]).slice(1);
    return branches
      .filter((branch) => !(isObject(branch) && branch.Ref === 'AWS::NoValue'))
      .flatMap((branch) => valueViolations(spec, branch, type, path));
  }
  if (fn !== undefined) return [];
  switch (type.type) {
    case 'ref': {
      if (!isObject(value)) return [`${path}: expected an object (${spec.get('typeDefinition', type.reference).name})`];
      return propertiesViolations(spec, value, spec.get('typeDefinition', type.reference).properties, path);
    }
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected a list`];
      return value.flatMap((element, index) => valueViolations(spec, element, type.element, `${path}[${index}]`));
    case 'map':
      if (!isObject(value)) return [`${path}: expected a map`];
      return Object.entries(value).flatMap(([key, element]) => valueViolations(spec, element, type.element, `${path}.${key}`));
    case 'tag':
      if (!isObject(value)) return [`${path}: expected a tag`];
      return ['Key', 'Value'].filter((key) => !(key in value)).map((key) => `${path}: required property ${key} is missing`);
    case 'union': {
      // The value is right when one of the alternatives takes it; otherwise report the closest miss.
      const attempts = type.types.map((alternative) => valueViolations(spec, value, alternative, path));
      if (attempts.some((found) => found.length === 0)) return [];
      return attempts.reduce((fewest, found) => (found.length < fewest.length ? found : fewest));
    }
    default:
      return [];
  }
}

function propertiesViolations(spec: ResourceSpec, given: Json, declared: Record<string, Property>, path: string): string[] {
  const found: string[] = [];
  for (const [name, property] of Object.entries(declared)) {
    if (property.required === true && !(name in given)) found.push(`${path}: required property ${name} is missing`);
  }
  for (const [name, value] of Object.entries(given)) {
    const property = declared[name];
    if (property === undefined) found.push(`${path}: property ${name} is not in the specification`);
    else found.push(...valueViolations(spec, value, property.type, `${path}.${name}`));
  }
  return found;
}

/** Every Fn::GetAtt in `node` as [logical id, attribute], including the `${Id.Attribute}` of Fn::Sub strings. */
function getAtts(node: unknown): Array<[string, string]> {
  if (Array.isArray(node)) return node.flatMap(getAtts);
  if (!isObject(node)) return [];
  const found: Array<[string, string]> = [];
  for (const [key, child] of Object.entries(node)) {
    if (key === 'Fn::GetAtt') {
      const [id, ...attribute] = Array.isArray(child) ? child.map(String) : String(child).split('.');
      found.push([id!, attribute.join('.')]);
    } else if (key === 'Fn::Sub') {
      const text = Array.isArray(child) ? child[0] : child;
      if (typeof text === 'string') {
        for (const match of text.matchAll(/\$\{(?<id>[A-Za-z0-9]+)\.(?<attribute>[A-Za-z0-9.]+)\}/g))
          found.push([match.groups!.id!, match.groups!.attribute!]);
      }
      if (Array.isArray(child)) found.push(...getAtts(child[1]));
    } else found.push(...getAtts(child));
  }
  return found;
}

/** Every departure of the template from the specification, one line each; empty when it conforms. */
export function specViolations(spec: ResourceSpec, template: TemplateUnderCheck): string[] {
  const found: string[] = [];
  const types: Record<string, string> = { ...template.generated };
  for (const [id, resource] of Object.entries(template.Resources)) {
    types[id] = resource.Type;
    const declared = resourceType(spec, resource.Type);
    if (declared === undefined) {
      found.push(`${id}: type ${resource.Type} is not in the specification`);
      continue;
    }
    found.push(...propertiesViolations(spec, resource.Properties ?? {}, declared.properties, id));
  }
  for (const [id, attribute] of getAtts([template.Resources, template.Outputs, template.elsewhere])) {
    const type = types[id];
    if (type === undefined) {
      found.push(`Fn::GetAtt ${id}.${attribute}: no resource ${id} in the template`);
      continue;
    }
    const declared = resourceType(spec, type);
    if (declared !== undefined && !(attribute in declared.attributes))
      found.push(`Fn::GetAtt ${id}.${attribute}: ${type} has no attribute ${attribute}`);
  }
  return found;
}
