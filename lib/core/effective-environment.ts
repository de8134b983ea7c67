/**
 * The environment istio-start.sh gives the agent (tools/packaging/common/istio-start.sh): it sources
 * /var/lib/istio/envoy/sidecar.env, then cluster.env, so a variable set in both has its cluster.env value
 * and one set only in sidecar.env counts. The one place this order is written down.
 */
export function effectiveEnvironment(
  sidecarEnv: ReadonlyMap<string, string>,
  clusterEnv: ReadonlyMap<string, string>,
): Map<string, string> {
  return new Map([...sidecarEnv, ...clusterEnv]);
}
