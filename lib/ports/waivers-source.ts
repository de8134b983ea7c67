import type { Waiver } from '../core/waivers.ts';

/**
 * Where a deployment keeps its waivers, read afresh for each run so that a waiver added or renewed applies
 * to the next run without a redeploy. A malformed document is an error naming the entry, never "no waivers".
 */
export interface WaiversSource {
  /** `now` is when they are read: no waiver may expire more than a year later. */
  read(now: Date): Promise<Waiver[]>;
}
