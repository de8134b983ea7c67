import type { Evidence } from '../result.ts';
import { renderIndentedMessage, renderMessage, renderMessageList } from './go-json.ts';
import { renderGoYaml } from './go-yaml.ts';
import { istioctlMessageTree, jsonDataTree, MAX_MESSAGE_DEPTH, nestsDeeperThan } from './proto-json-tree.ts';

/** istioctl's `-o json` and `-o yaml`. */
export type IstioctlDumpFormat = 'json' | 'yaml';

/**
 * How istioctl marshals one message: jsonpb with its own indentation (`secret`, `bootstrap`), or protojson
 * (`ecds`), whose multi-line layout is Go's usual one except for the spaces protojson scatters at random
 * to keep anyone from depending on it; it is written without them, as Istio's own golden files store it.
 */
export type MessageMarshaller = 'jsonpb' | 'protojson';

/**
 * A list of Envoy messages (clusters, listeners, route configurations, cluster load assignments, cluster
 * statuses) as `istioctl proxy-config … -o json|yaml` prints them: jsonpb's names, Go's indentation, and
 * for yaml the same JSON through sigs.k8s.io/yaml. Never throws.
 */
export function renderIstioctlMessages(messages: unknown[], format: IstioctlDumpFormat): Evidence<string> {
  return rendered(messages, (list) => {
    const trees = list.map(istioctlMessageTree);
    return format === 'json' ? renderMessageList(trees) : renderGoYaml({ kind: 'array', items: trees, struct: false });
  });
}

/** One message (a SecretsConfigDump, a BootstrapConfigDump, an EcdsConfigDump) as istioctl prints it. Never throws. */
export function renderIstioctlMessage(
  message: unknown,
  format: IstioctlDumpFormat,
  marshaller: MessageMarshaller = 'jsonpb',
): Evidence<string> {
  return rendered([message], ([value]) => {
    const tree = istioctlMessageTree(value);
    if (format === 'yaml') return renderGoYaml(tree);
    return marshaller === 'jsonpb' ? renderMessage(tree) : renderIndentedMessage(tree);
  });
}

/** `istioctl proxy-config all -o json|yaml`: the dump itself, as the file holds it, or converted to YAML. Never throws. */
export function renderDumpAsGiven(text: string, dump: unknown, format: IstioctlDumpFormat): Evidence<string> {
  if (format === 'json') return { ok: true, value: `${text}\n` };
  return rendered([dump], ([value]) => renderGoYaml(jsonDataTree(value)));
}

// The printers recurse: input nested deeper than any Envoy configuration is refused first.
function rendered(values: unknown[], render: (values: unknown[]) => string): Evidence<string> {
  if (nestsDeeperThan(values, MAX_MESSAGE_DEPTH + 1))
    return { ok: false, reason: `nests deeper than ${MAX_MESSAGE_DEPTH} levels, which no Envoy configuration does` };
  return { ok: true, value: render(values) };
}
