/** The uid and gid of the simulated VMs' istio-proxy user. */
export const PROXY_UID = 998;

/** Where the `output-certs` VM's agent writes its certificates (OUTPUT_CERTS in its cluster.env). */
export const OUTPUT_CERTS_DIR = '/var/lib/istio/certs';

/**
 * Lines as the script prints them: each ended by a newline, which the section keeps (the script writes
 * whole lines, and a file or a tool's output ends with its newline).
 */
export function lines(items: readonly string[]): string {
  return items.map((line) => `${line}\n`).join('');
}
