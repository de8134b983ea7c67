/** The uid and gid of the simulated VMs' istio-proxy user. */
export const PROXY_UID = 998;

/** The inbound ports the VM's capture leaves alone (ISTIO_LOCAL_EXCLUDE_PORTS): ssh, then the proxy's own (Prometheus, health, agent). */
export const EXCLUDED_INBOUND_PORTS: readonly number[] = [22, 15090, 15021, 15020];

/** Where the `output-certs` VM's agent writes its certificates (OUTPUT_CERTS in its cluster.env). */
export const OUTPUT_CERTS_DIR = '/var/lib/istio/certs';

/**
 * Lines as the script prints them: each ended by a newline, which the section keeps (the script writes
 * whole lines, and a file or a tool's output ends with its newline).
 */
export function lines(items: readonly string[]): string {
  return items.map((line) => `${line}\n`).join('');
}
