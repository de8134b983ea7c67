/**
 * How much evidence one VM may bring. A VM's output is written by the VM, so its size is bounded where it
 * is read (the collector's S3 read, the bundle reader), and a larger one harms only that VM's row: its
 * collection is ERROR naming the size. The diagnostic script itself stays far below these (about 25 KB
 * for a healthy VM; every section is bounded, see docs/diagnostic-output.md).
 */

/** The most one VM's diagnostic stdout may hold, in bytes. */
export const MAX_VM_OUTPUT_BYTES = 4 * 1024 * 1024;

/** The most one VM's stderr may hold, in bytes (the script writes little to it). */
export const MAX_VM_STDERR_BYTES = 64 * 1024;
