import type { Invocation } from './evidence-bundle.ts';
import { MAX_VM_OUTPUT_BYTES } from './evidence-limits.ts';
import type { SnapshotPool } from './snapshot-pool.ts';
import { parseVmSnapshot, type VmSnapshot } from './vm-snapshot.ts';

/**
 * One VM's invocation as the analysis keeps it: the record without its raw output, and the snapshot
 * parsed from that output. A fleet's analysis holds one of these per VM, never the outputs themselves,
 * so its memory grows with what the controls read, not with what each VM printed.
 */
export interface CollectedVm {
  /** The invocation record; StandardOutputContent is dropped once parsed (an excerpt stays when it did not parse). */
  invocation: Invocation;
  /** Undefined when the invocation did not succeed or its output could not be held. */
  snapshot: VmSnapshot | undefined;
}

/** What is kept of the raw streams for the collection finding's evidence. */
const KEPT_STDOUT_CHARS = 256;
const KEPT_STDERR_CHARS = 1024;

/**
 * Parses an invocation's output into its snapshot and drops the raw text. An output larger than
 * MAX_VM_OUTPUT_BYTES is not parsed: the VM's collection is ERROR naming its size (COLLECT-01). A pool
 * shared by the fleet's VMs holds their common parts once (snapshot-pool.ts).
 */
export function collectVm(invocation: Invocation, pool?: SnapshotPool): CollectedVm {
  const { StandardOutputContent: stdout, StandardErrorContent: stderr, ...record } = invocation;
  const kept: Invocation = { ...record, ...(stderr !== undefined ? { StandardErrorContent: cut(stderr, KEPT_STDERR_CHARS) } : {}) };
  if (invocation.Status !== 'Success' || stdout === undefined || invocation.FleetAuditCollectionError) {
    return {
      invocation: { ...kept, ...(stdout !== undefined ? { StandardOutputContent: cut(stdout, KEPT_STDOUT_CHARS) } : {}) },
      snapshot: undefined,
    };
  }
  const bytes = utf8ByteLength(stdout);
  if (bytes > MAX_VM_OUTPUT_BYTES) {
    return {
      invocation: {
        ...kept,
        FleetAuditCollectionError: `the output holds ${bytes} bytes, more than the ${MAX_VM_OUTPUT_BYTES} bytes one VM's output may hold: it was not analyzed`,
      },
      snapshot: undefined,
    };
  }
  const snapshot = parseVmSnapshot(stdout, pool);
  return { invocation: snapshot.readable ? kept : { ...kept, StandardOutputContent: cut(stdout, KEPT_STDOUT_CHARS) }, snapshot };
}

/** A copy of the first `max` characters (a fresh string: a slice would keep the whole text alive). */
function cut(text: string, max: number): string {
  return text.length <= max ? text : structuredClone(text.slice(0, max));
}

/** The length of `text` in UTF-8, without encoding it. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
