import { LocalAuditStore } from '../adapters/local-audit-store.ts';
import type { AuditStore } from '../ports/audit-store.ts';

/** The audit store of a machine's own disk: each run a directory of `dir`. */
export function composeLocalAuditStore(dir: string): AuditStore {
  return new LocalAuditStore(dir);
}
