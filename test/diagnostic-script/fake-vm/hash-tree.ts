/** A digest of a directory tree, to tell that a run left the VM's root as it found it. */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Digest of a directory tree: names, types, modes, owners, sizes, mtimes/ctimes and contents. */
export function hashTree(dir: string): string {
  const hash = createHash('sha256');
  const walk = (path: string, rel: string): void => {
    const st = lstatSync(path, { bigint: true });
    hash.update(`${rel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.size}\0${st.mtimeNs}\0${st.ctimeNs}\0`);
    if (st.isSymbolicLink()) hash.update(readlinkSync(path));
    else if (st.isFile()) hash.update(readFileSync(path));
    else if (st.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name), `${rel}/${name}`);
  };
  walk(dir, '.');
  return hash.digest('hex');
}
