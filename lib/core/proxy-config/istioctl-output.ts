import type { Evidence } from '../result.ts';
import { renderIndentedMessage, renderMessage, renderMessageList } from './go-json.ts';
import { renderGoYaml } from './go-yaml.ts';
import { istioctlMessageTree, MAX_MESSAGE_DEPTH, nestsDeeperThan, plainJsonTree } from './proto-json-tree.ts';

/** istioctl's `-o json` and `-o yaml`. */
export type IstioctlDumpFormat = 'json' | 'yaml';

/**
 * A list of Envoy messages (clusters, listeners, route configurations, cluster load assignments, cluster
 * statuses) as `istioctl proxy-config … -o json|yaml` prints them: jsonpb's names, Go's indentation, and
 * for yaml the same JSON through sigs.k8s.io/yaml. Never throws.
 */
export function renderIstioctlMessages(messages: unknown[], format: IstioctlDumpFormat): Evidence<string> {
  if (nestsDeeperThan(messages, MAX_MESSAGE_DEPTH + 1)) return tooDeep();
  const trees = messages.map(istioctlMessageTree);
  return { ok: true, value: format === 'json' ? renderMessageList(trees) : renderGoYaml({ kind: 'array', items: trees, struct: false }) };
}

/** One message (a SecretsConfigDump, a BootstrapConfigDump) as istioctl prints it, with jsonpb's own indentation. Never throws. */
export function renderIstioctlMessage(message: unknown, format: IstioctlDumpFormat): Evidence<string> {
  if (nestsDeeperThan(message, MAX_MESSAGE_DEPTH)) return tooDeep();
  const tree = istioctlMessageTree(message);
  return { ok: true, value: format === 'json' ? renderMessage(tree) : renderGoYaml(tree) };
}

/**
 * `proxy-config ecds -o json|yaml`: istioctl writes the EcdsConfigDump with protojson, whose multi-line
 * layout is Go's usual indentation except for the spaces protojson scatters at random to keep anyone from
 * depending on it; this writes it without them, as Istio's own golden files store it. Never throws.
 */
export function renderIstioctlEcds(message: unknown, format: IstioctlDumpFormat): Evidence<string> {
  if (nestsDeeperThan(message, MAX_MESSAGE_DEPTH)) return tooDeep();
  const tree = istioctlMessageTree(message);
  return { ok: true, value: format === 'json' ? renderIndentedMessage(tree) : renderGoYaml(tree) };
}

/** `istioctl proxy-config all -o json|yaml`: the dump itself, as the file holds it, or converted to YAML. Never throws. */
export function renderDumpAsGiven(text: string, dump: unknown, format: IstioctlDumpFormat): Evidence<string> {
  if (format === 'json') return { ok: true, value: `${text}\n` };
  if (nestsDeeperThan(dump, MAX_MESSAGE_DEPTH)) return tooDeep();
  return { ok: true, value: renderGoYaml(plainJsonTree(dump)) };
}

const tooDeep = (): Evidence<string> => ({
  ok: false,
  reason: `nests deeper than ${MAX_MESSAGE_DEPTH} levels, which no Envoy configuration does`,
});
