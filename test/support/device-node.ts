import { execFileSync } from 'node:child_process';

/** Linux's major and minor numbers of the memory devices (Documentation/admin-guide/devices.txt). */
const MEMORY_DEVICES = { null: '3', zero: '5', urandom: '9' } as const;

/**
 * A character device for /dev/`name` at `path`, made with mknod, where a test needs one inside a tree it
 * prepared; returns `path`. Making a device node needs CAP_MKNOD: without it this returns /dev/`name`
 * itself, so the test still meets a real device, only not at the path it chose.
 */
export function mknodOrDevice(path: string, name: keyof typeof MEMORY_DEVICES): string {
  try {
    execFileSync('mknod', ['-m', '600', path, 'c', '1', MEMORY_DEVICES[name]], { stdio: 'ignore' });
    return path;
  } catch {
    return `/dev/${name}`;
  }
}
