import { compareGoStrings } from './go-string-order.ts';

/**
 * Envoy's admin config dump writes protobuf JSON with the proto field names (snake_case); istioctl re-marshals
 * the same messages with Go's jsonpb (istio.io/istio pkg/util/protomarshal `ToJSONWithIndent`, `OrigName`
 * off), which names every field by its lowerCamelCase JSON name and writes map entries and
 * google.protobuf.Struct members sorted by key. This turns a parsed dump into that shape, as an ordered tree
 * that the printers (go-json.ts, go-yaml.ts) write in istioctl's layouts.
 *
 * Renaming needs to know which objects are data rather than messages: the keys of map fields and the
 * members of a Struct are kept as written. Which fields those are comes from Envoy's and Istio's protos
 * (envoy/api v3, istio/api envoy/config): Envoy's JSON does not say. A map or Struct field missing from the
 * lists below would have its keys renamed, a visible difference, never lost data.
 */

/** A node of the tree: an object keeps its member order; a Struct (or ListValue) subtree is flagged. */
export type ProtoJsonNode =
  | { kind: 'object'; entries: Array<[string, ProtoJsonNode]>; struct: boolean }
  | { kind: 'array'; items: ProtoJsonNode[]; struct: boolean }
  | { kind: 'scalar'; value: string | number | boolean | null };

// google.protobuf.Struct-valued fields (and map<string, string>, whose keys are data too).
const STRUCT_FIELDS = new Set([
  'filter_metadata', // envoy.config.core.v3.Metadata: map<string, Struct>
  'json_format', // envoy.config.core.v3.SubstitutionFormatString (Istio's JSON access log)
  'static_layer', // envoy.config.bootstrap.v3.RuntimeLayer
  'default_subset', // envoy.config.cluster.v3.Cluster.LbSubsetConfig
  'context_extensions', // envoy.extensions.filters.http.ext_authz.v3.CheckSettings: map<string, string>
  'dimensions', // istio stats.PluginConfig.MetricConfig: map<string, string>
  'key_values', // envoy.extensions.wasm.v3.EnvironmentVariables: map<string, string>
]);
// Map fields whose values are messages: keys kept, values renamed.
const MAP_FIELDS = new Set([
  'typed_filter_metadata',
  'typed_extension_protocol_options',
  'typed_per_filter_config',
  'named_endpoints', // envoy.config.endpoint.v3.ClusterLoadAssignment
  'policies', // envoy.config.rbac.v3.RBAC
  'source_codes', // envoy.extensions.filters.http.lua.v3.Lua
  'map', // xds.type.matcher.v3.Matcher.MatcherTree.MatchMap (exact_match_map, prefix_match_map)
]);
// An Any whose type has a JSON mapping of its own carries it as `value` (the proto3 JSON spec).
const STRUCT_ANY = /^type\.googleapis\.com\/(google\.protobuf\.(Struct|Value|ListValue)|(udpa\.type\.v1|xds\.type\.v3)\.TypedStruct)$/;

/** Deeper input is refused before it is walked (the printers recurse): no Envoy configuration nests so deep. */
export const MAX_MESSAGE_DEPTH = 256;

/** Whether a parsed JSON value nests deeper than `max` levels, found without recursion. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/** lowerCamelCase as protoc derives a field's json_name: each `_x` becomes `X`. */
export const jsonNameOf = (protoName: string): string => protoName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A parsed Envoy message (snake_case) as istioctl writes it, without the `@type` of an unpacked Any. */
export function istioctlMessageTree(message: unknown): ProtoJsonNode {
  const node = messageTree(message, undefined);
  if (node.kind === 'object') node.entries = node.entries.filter(([key]) => key !== '@type');
  return node;
}

function messageTree(value: unknown, field: string | undefined): ProtoJsonNode {
  if (Array.isArray(value)) return { kind: 'array', items: value.map((v) => messageTree(v, field)), struct: false };
  if (!isObject(value)) return scalar(value);
  const typeUrl = typeof value['@type'] === 'string' ? value['@type'] : undefined;
  const entries: Array<[string, ProtoJsonNode]> = [];
  for (const [key, child] of Object.entries(value)) {
    const name = key.startsWith('@') ? key : jsonNameOf(key);
    if (isStructField(key, field, typeUrl)) entries.push([name, structTree(child)]);
    else if (MAP_FIELDS.has(key) || (key === 'args' && field === 'channel_args')) entries.push([name, mapTree(child)]);
    else entries.push([name, messageTree(child, key)]);
  }
  return { kind: 'object', entries, struct: false };
}

function isStructField(key: string, field: string | undefined, typeUrl: string | undefined): boolean {
  if (STRUCT_FIELDS.has(key)) return true;
  // envoy.config.cluster.v3.Cluster.TransportSocketMatch.match; envoy.config.core.v3.Node.metadata and
  // BuildVersion.metadata (a core.v3.Metadata elsewhere).
  if (key === 'match' && field === 'transport_socket_matches') return true;
  if (key === 'metadata' && (field === 'node' || field === 'user_agent_build_version')) return true;
  return key === 'value' && typeUrl !== undefined && STRUCT_ANY.test(typeUrl);
}

function mapTree(value: unknown): ProtoJsonNode {
  if (!isObject(value)) return messageTree(value, undefined);
  const entries = sortedEntries(value).map(([key, child]): [string, ProtoJsonNode] => [key, messageTree(child, undefined)]);
  return { kind: 'object', entries, struct: false };
}

/**
 * A parsed JSON value as data: keys kept as written (sorted as Go sorts map keys), flagged as Struct
 * content. What a Struct holds, and what istioctl prints without re-marshalling (`proxy-config all -o yaml`).
 */
export function jsonDataTree(value: unknown): ProtoJsonNode {
  return structTree(value);
}

function structTree(value: unknown): ProtoJsonNode {
  if (Array.isArray(value)) return { kind: 'array', items: value.map(structTree), struct: true };
  if (!isObject(value)) return scalar(value);
  const entries = sortedEntries(value).map(([key, child]): [string, ProtoJsonNode] => [key, structTree(child)]);
  return { kind: 'object', entries, struct: true };
}

// Go sorts map keys bytewise.
function sortedEntries(value: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(value).sort(([a], [b]) => compareGoStrings(a, b));
}

function scalar(value: unknown): ProtoJsonNode {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'scalar', value };
  return { kind: 'scalar', value: null };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
