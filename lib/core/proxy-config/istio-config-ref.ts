// Istio stamps the config a cluster or route came from into filter_metadata.istio.config as
// /apis/<group>/<version>/namespaces/<ns>/<kind>/<name> (pilot/pkg/networking/util AddConfigInfoMetadata);
// istiod 1.24 writes DestinationRules as networking.istio.io/v1. istioctl 1.24 and later (writer/envoy/configdump
// route.go renderConfig) accept any version of networking.istio.io: eight `/`-separated pieces give
// <name>.<ns>, another count gives '', and a path outside networking.istio.io gives <unknown>.
// (istioctl before 1.24 accepted v1alpha3 only, so it printed <unknown> for every v1 rule.)
const NETWORKING_CONFIG_PREFIX = '/apis/networking.istio.io/';

/**
 * The DESTINATION RULE / VIRTUAL SERVICE cell istioctl prints for an Envoy resource's metadata
 * (writer/envoy/configdump route.go describeManagement): `<name>.<namespace>`, '' or `<unknown>`.
 */
export function describeIstioConfig(filterMetadata: Record<string, unknown> | undefined): string {
  const istio = filterMetadata?.istio;
  if (typeof istio !== 'object' || istio === null || !('config' in istio)) return '';
  // A config that is not a string reads as '' (protobuf's GetStringValue), which is not a networking path.
  const config = typeof istio.config === 'string' ? istio.config : '';
  if (!config.startsWith(NETWORKING_CONFIG_PREFIX)) return '<unknown>';
  const pieces = config.split('/');
  return pieces.length === 8 ? `${pieces[7]}.${pieces[5]}` : '';
}
