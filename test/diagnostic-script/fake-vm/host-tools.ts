/** The programs of the test machine the fake VM borrows. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The absolute path of a program on the test machine's PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A program the test machine must have; throws (so the test fails, never skips) when it is missing. */
export function realTool(name: string): string {
  const path = findOnPath(name);
  if (!path) throw new Error(`${name} is not installed on the test machine`);
  return path;
}
