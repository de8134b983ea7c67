import type { ProtoJsonNode } from './proto-json-tree.ts';

const INDENT = '    ';

/**
 * What istioctl prints for a list of messages (clusters, listeners, routes, endpoints): each marshalled
 * compact by jsonpb, the list re-indented by Go's `json.MarshalIndent(…, "", "    ")`, then a newline
 * (`fmt.Fprintln`). See istioctl/pkg/util/proto/messageslice.go and writer/envoy/configdump/*.go.
 */
export function renderMessageList(messages: ProtoJsonNode[]): string {
  return `${indented({ kind: 'array', items: messages, struct: false }, '')}\n`;
}

/** One message in Go's usual indentation (protojson's multi-line layout without its random spaces), then a newline. */
export function renderIndentedMessage(message: ProtoJsonNode): string {
  return `${indented(message, '')}\n`;
}

function indented(node: ProtoJsonNode, indent: string): string {
  if (node.kind === 'scalar') return goScalar(node.value);
  const inner = indent + INDENT;
  if (node.kind === 'array') {
    if (node.items.length === 0) return '[]';
    return `[\n${node.items.map((item) => inner + indented(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (node.entries.length === 0) return '{}';
  return `{\n${node.entries.map(([key, value]) => `${inner}${goString(key)}: ${indented(value, inner)}`).join(',\n')}\n${indent}}`;
}

/**
 * What istioctl prints for one message (the secrets and the bootstrap of `proxy-config secret|bootstrap
 * -o json`): jsonpb's own indented layout (github.com/golang/protobuf jsonpb `Marshaler{Indent: "    "}`),
 * then a newline. It differs from Go's json.Indent: an empty message spans two lines, and a Struct's
 * members sit two levels deeper than its braces, one level more at each nesting, as jsonpb indents the
 * Struct, Value and ListValue messages that carry them.
 */
export function renderMessage(message: ProtoJsonNode): string {
  return `${jsonpbMessage(message, '')}\n`;
}

function jsonpbMessage(node: ProtoJsonNode, indent: string): string {
  if (node.kind !== 'object') return goScalar(node.kind === 'scalar' ? node.value : null);
  if (node.entries.length === 0) return `{\n\n${indent}}`;
  const fields = node.entries.map(([key, value]) => `${indent}${INDENT}${goString(key)}: ${jsonpbField(value, indent)}`);
  return `{\n${fields.join(',\n')}\n${indent}}`;
}

// The value of a field of a message written at `indent`: a repeated field's list, else one value.
function jsonpbField(node: ProtoJsonNode, indent: string): string {
  if (node.kind !== 'array' || node.struct) return jsonpbSingular(node, indent);
  const items = node.items.map((item) => `\n${indent}${INDENT}${INDENT}${jsonpbSingular(item, indent + INDENT)}`);
  return `[${items.join(',')}\n${indent}${INDENT}]`;
}

// One value (jsonpb's marshalSingularValue): a scalar, a message, or a Struct or ListValue message.
function jsonpbSingular(node: ProtoJsonNode, indent: string): string {
  if (node.kind === 'scalar') return goScalar(node.value);
  if (node.struct) return node.kind === 'object' ? jsonpbStruct(node, indent + INDENT) : jsonpbList(node, indent + INDENT);
  return jsonpbMessage(node, indent + INDENT);
}

// A google.protobuf.Struct message at `indent`: its `fields` map, whose values are Value messages.
function jsonpbStruct(node: ProtoJsonNode & { kind: 'object' }, indent: string): string {
  const members = node.entries.map(
    ([key, value]) => `\n${indent}${INDENT}${INDENT}${goString(key)}: ${jsonpbValue(value, indent + INDENT + INDENT)}`,
  );
  return `{${members.join(',')}\n${indent}${INDENT}}`;
}

// A google.protobuf.ListValue message at `indent`: its `values` list.
function jsonpbList(node: ProtoJsonNode & { kind: 'array' }, indent: string): string {
  const items = node.items.map((item) => `\n${indent}${INDENT}${INDENT}${jsonpbValue(item, indent + INDENT + INDENT)}`);
  return `[${items.join(',')}\n${indent}${INDENT}]`;
}

// A google.protobuf.Value message at `indent`.
function jsonpbValue(node: ProtoJsonNode, indent: string): string {
  if (node.kind === 'scalar') return goScalar(node.value);
  return node.kind === 'object' ? jsonpbStruct(node, indent + INDENT) : jsonpbList(node, indent + INDENT);
}

function goScalar(value: string | number | boolean | null): string {
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  return JSON.stringify(value);
}

/** A string as Go's encoding/json writes it: HTML-safe, with U+2028 and U+2029 escaped. */
export function goString(value: string): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
