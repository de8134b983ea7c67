import type { SimFaultRule } from '../fault-plan.ts';

/** The faults the simulated Kubernetes API and istiod behind its port-forward serve when a test asks for them. */
export interface KubeApiFaults {
  /** istiod pods whose port 15014 refuses the forwarded connection (the error channel says so). */
  replicaDown?: readonly string[];
  /** Resources (plural, `pods/portforward` for a subresource) answered with 403 whatever RBAC says, optionally in one namespace. */
  forbidden?: ReadonlyArray<{ resource: string; namespace?: string }>;
  /** Answers delayed by `delayMs`: `target` is a resource plural, or `syncz` (optionally `syncz/<pod>`). */
  slow?: ReadonlyArray<{ target: string; delayMs: number }>;
  /** istiod pods whose /debug/syncz body stops halfway (the connection closes before Content-Length is reached). */
  truncatedSyncz?: readonly string[];
  /** istiod pods whose /debug/syncz answers 200 with a body that is not JSON. */
  garbledSyncz?: readonly string[];
  /** Proxies that a second replica also lists, as right after a reconnect to another replica. */
  movedProxies?: ReadonlyArray<{ proxy: string; alsoOn: string }>;
  /**
   * Bursts on list calls (`list <resource>`) and on istiod's syncz (`syncz`, `syncz/<pod>`): 429
   * TooManyRequests or 503 from istiod, 500, or no answer (fault-plan.ts).
   */
  bursts?: readonly SimFaultRule[];
}
