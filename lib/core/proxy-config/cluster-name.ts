/** The columns istioctl derives from a cluster name (each cluster entry of the dump carries them). */
export interface ClusterNameParts {
  /** Whether the name is an Istio subset key (`direction|port|subset|hostname`). */
  isSubsetKey: boolean;
  /** SERVICE FQDN: the hostname of a subset key, the whole name otherwise. */
  serviceFqdn: string;
  /** PORT of a subset key (0 when not a number, as istioctl reads it); undefined otherwise. */
  port: number | undefined;
  /** SUBSET of a subset key ('' when none); undefined otherwise. */
  subset: string | undefined;
  /** DIRECTION of a subset key (outbound, inbound, inbound-vip, …); undefined otherwise. */
  direction: string | undefined;
}

/**
 * Splits a cluster name as istioctl's cluster table does: a name with at least three `|` is an Istio subset
 * key `direction|port|subset|hostname` (pilot/pkg/model BuildSubsetKey; `outbound_.port_.subset_.hostname`
 * when it starts with `outbound_` or `inbound_`), read field by field; any other name is shown whole.
 */
export function parseClusterName(name: string): ClusterNameParts {
  if (name.split('|').length <= 3) {
    return { isSubsetKey: false, serviceFqdn: name, port: undefined, subset: undefined, direction: undefined };
  }
  const separator = /^(?:outbound|inbound)_/.test(name) ? '_.' : '|';
  const parts: ClusterNameParts = { isSubsetKey: true, serviceFqdn: '', port: 0, subset: '', direction: '' };
  const [direction, afterDirection] = cut(name, separator);
  if (afterDirection === undefined) return parts;
  parts.direction = direction;
  const [port, afterPort] = cut(afterDirection, separator);
  if (afterPort === undefined) return parts;
  parts.port = goAtoi(port);
  const [subset, hostname] = cut(afterPort, separator);
  if (hostname === undefined) return parts;
  parts.subset = subset;
  if (!hostname.includes(separator)) parts.serviceFqdn = hostname;
  return parts;
}

function cut(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

// Go's strconv.Atoi with the error ignored: a signed decimal, 0 for anything else.
function goAtoi(text: string): number {
  const m = /^(?<number>[+-]?\d+)$/.exec(text)?.groups;
  const value = m?.number === undefined ? 0 : Number(m.number);
  return Number.isSafeInteger(value) ? value : 0;
}
