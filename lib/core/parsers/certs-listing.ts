import type { Evidence } from '../result.ts';

export interface FileEntry {
  name: string;
  /** Permission bits, e.g. 0o600. */
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  size: number;
  mtimeEpochSeconds: number;
}

export interface CertsListing {
  /** The directory the script read: OUTPUT_CERTS or PROV_CERT as the VM sets them, else /etc/certs. */
  directory: string;
  /** Where `directory` came from: `OUTPUT_CERTS`, `PROV_CERT` or `default`. */
  source: string;
  /** A variable whose value the script would not read as a directory (not an absolute plain path). */
  refused?: string;
  /** False when the directory does not exist. */
  present: boolean;
  files: FileEntry[];
  /** Whether key.pem holds the private key of the leaf certificate, as openssl judged on the VM. */
  keyMatch: 'yes' | 'no' | 'unknown';
  /** Entries stat could not describe (the script prints their name alone). */
  unreadable: string[];
}

const FILE_LINE =
  /^(?:file|link|dir|other) mode=(?<mode>[0-7]{3,4}) uid=(?<uid>\d{1,10}) gid=(?<gid>\d{1,10}) owner=(?<owner>\S{1,64}) size=(?<size>\d{1,15}) mtime=(?<mtime>\d{1,12}) name=(?<name>.{1,255})$/;

/**
 * Parses the `certs` section: the `location=` line, `stat -c` lines of that directory and `key_match`
 * (docs/diagnostic-output.md). An output without a location line read /etc/certs. Never throws.
 */
export function parseCertsListing(text: string): Evidence<CertsListing> {
  const location =
    /^location=(?<dir>\/[^\s]{0,4095}) source=(?<source>OUTPUT_CERTS|PROV_CERT|default)(?: refused=(?<refused>OUTPUT_CERTS|PROV_CERT))?$/m.exec(
      text,
    )?.groups;
  const where = {
    directory: location?.dir ?? '/etc/certs',
    source: location?.source ?? 'default',
    ...(location?.refused ? { refused: location.refused } : {}),
  };
  if (/^dir=missing$/m.test(text)) return { ok: true, value: { ...where, present: false, files: [], keyMatch: 'unknown', unreadable: [] } };
  const files: FileEntry[] = [];
  const unreadable: string[] = [];
  let keyMatch: CertsListing['keyMatch'] | undefined;
  for (const line of text.split('\n')) {
    const file = FILE_LINE.exec(line);
    if (file?.groups) {
      files.push({
        name: file.groups.name!,
        mode: parseInt(file.groups.mode!, 8) & 0o7777,
        uid: Number(file.groups.uid),
        gid: Number(file.groups.gid),
        owner: file.groups.owner!,
        size: Number(file.groups.size),
        mtimeEpochSeconds: Number(file.groups.mtime),
      });
      continue;
    }
    const bare = /^(?:file|link|dir|other) name=(?<name>.{1,255})$/.exec(line);
    if (bare?.groups) {
      unreadable.push(bare.groups.name!);
      continue;
    }
    const match = /^key_match=(?<v>yes|no|unknown)$/.exec(line);
    if (match?.groups) keyMatch = match.groups.v as CertsListing['keyMatch'];
  }
  if (keyMatch === undefined) return { ok: false, reason: 'the certs section ends before its key_match line' };
  return { ok: true, value: { ...where, present: true, files, keyMatch, unreadable } };
}
