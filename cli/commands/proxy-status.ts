import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { ManifestSchema } from '../../lib/core/evidence-bundle.ts';
import { istiodReleasesOf } from '../../lib/core/istiod-releases.ts';
import {
  chooseIstioctlVersion,
  isAtLeast,
  ISTIOCTL_VERSIONS,
  NEWEST_ISTIOCTL_VERSION,
  type IstioctlVersion,
} from '../../lib/core/istioctl-version.ts';
import { proxyStatusRows } from '../../lib/core/proxy-status.ts';
import { renderProxyStatusTable } from '../../lib/core/render/proxy-status-table.ts';
import { CliUsageError, type CliIo, type CommandContext } from '../context.ts';

// One replica's syncz answer; the optional `istiod` field lets a file saved under any name say which replica it is.
const SynczFileSchema = z.array(z.unknown());
const IstiodFieldSchema = z.looseObject({ istiod: z.string().min(1).optional().catch(undefined) });

interface ProxyStatusOptions {
  file: string[];
  istioVersion?: string;
  verbosity: string;
}

/**
 * `fleet-audit proxy-status --file <syncz.json>...`: istioctl's proxy-status table from saved
 * `/debug/syncz` answers, one file per istiod replica. istioctl fills ISTIOD with the identity of the
 * replica that answered; here that is the file name without `.json` (save each answer as
 * `<istiod-pod>.json`, as the evidence bundle does), or the entry's `istiod` field when it has one.
 */
export function registerProxyStatusCommand(program: Command, { io }: CommandContext): void {
  program
    .command('proxy-status')
    .alias('ps')
    .description("Print istioctl's proxy-status table from saved istiod /debug/syncz answers")
    .requiredOption('--file <syncz.json...>', "one istiod replica's /debug/syncz JSON array per file ('-' for standard input)")
    .option(
      '--istio-version <version>',
      `print the table as istioctl <version> does (${ISTIOCTL_VERSIONS.join(', ')}; default: the release of the istiod pods in the bundle's cluster/istiod-pods.json next to cluster/syncz/, else ${NEWEST_ISTIOCTL_VERSION})`,
    )
    .addOption(
      new Option('-v, --verbosity <level>', "istioctl 1.27+: 1 prints every xDS type's state instead of SUBSCRIBED TYPES")
        .choices(['0', '1'])
        .default('0'),
    )
    .action(async (opts: ProxyStatusOptions) => {
      const replicas: Array<{ istiod: string; syncz: unknown[] }> = [];
      for (const file of opts.file) {
        const entries = await readSynczFile(file, io.readStdin);
        const fromName = file === '-' ? 'stdin' : basename(file).replace(/\.json$/i, '');
        // Entries naming their replica are grouped under it; the rest belong to the file's replica.
        const byIstiod = new Map<string, unknown[]>();
        for (const entry of entries) {
          const istiod = IstiodFieldSchema.safeParse(entry).data?.istiod ?? fromName;
          byIstiod.set(istiod, [...(byIstiod.get(istiod) ?? []), entry]);
        }
        for (const [istiod, syncz] of byIstiod) replicas.push({ istiod, syncz });
        const { invalid } = proxyStatusRows([{ istiod: fromName, syncz: entries }]);
        const first = invalid[0];
        if (first) throw new CliUsageError(`${file}: entry ${first.index} is not a syncz proxy status (${first.reason})`);
      }
      const version =
        opts.istioVersion === undefined
          ? await bundleIstioctlVersion(
              opts.file,
              replicas.map((r) => r.istiod),
              io,
            )
          : askedIstioctlVersion(opts.istioVersion);
      const verbosity = Number(opts.verbosity);
      if (verbosity > 0 && !isAtLeast(version, '1.27'))
        throw new CliUsageError(`-v ${verbosity}: istioctl ${version} has no verbosity levels (they came with 1.27)`);
      const now = (await bundleTime(opts.file)) ?? io.clock();
      io.stdout(renderProxyStatusTable(proxyStatusRows(replicas).rows, { now, version, verbosity }));
    });
}

function askedIstioctlVersion(asked: string): IstioctlVersion {
  const choice = chooseIstioctlVersion(asked);
  if (!choice || choice.note)
    throw new CliUsageError(
      `--istio-version ${asked}: expected one of ${ISTIOCTL_VERSIONS.join(', ')} (a patch release such as 1.26.3 is accepted)`,
    );
  return choice.version;
}

/**
 * The layout of the istiod that answered, when the files are an evidence bundle's `cluster/syncz/<pod>.json`:
 * the release of those pods in `cluster/istiod-pods.json`. Replicas of different releases (an upgrade under
 * way) take the newest; the newest supported layout when the bundle does not say.
 */
async function bundleIstioctlVersion(files: string[], replicas: string[], io: CliIo): Promise<IstioctlVersion> {
  const podLists = [
    ...new Set(files.filter((f) => f !== '-' && basename(dirname(f)) === 'syncz').map((f) => join(dirname(f), '..', 'istiod-pods.json'))),
  ];
  const releases = new Set<string>();
  for (const path of podLists) {
    let podList: unknown;
    try {
      podList = JSON.parse(await readFile(path, 'utf8'));
    } catch {
      continue;
    }
    const byPod = istiodReleasesOf(podList);
    for (const replica of replicas) {
      const release = byPod.get(replica);
      if (release) releases.add(release);
    }
  }
  const choices = [...releases].flatMap((r) => {
    const choice = chooseIstioctlVersion(r);
    return choice ? [{ release: r, ...choice }] : [];
  });
  if (choices.length === 0) return NEWEST_ISTIOCTL_VERSION;
  const newest = choices.reduce((a, b) => (isAtLeast(b.version, a.version) ? b : a));
  if (newest.note) io.stderr(`fleet-audit: ${newest.note} (the istiod pods' release; --istio-version chooses another)\n`);
  if (new Set(choices.map((c) => c.version)).size > 1) {
    io.stderr(
      `fleet-audit: the istiod replicas run ${[...releases].sort().join(', ')}: printing the ${newest.version} layout (--istio-version chooses another)\n`,
    );
  }
  return newest.version;
}

/**
 * When the files are an evidence bundle's `cluster/syncz/<pod>.json`, the time the bundle was taken (its
 * manifest's `finishedAt`, else `startedAt`): ages are those istioctl would have printed then, and a replay
 * prints the same table whenever it runs. Undefined otherwise.
 */
async function bundleTime(files: string[]): Promise<Date | undefined> {
  const file = files.find((f) => f !== '-' && basename(dirname(f)) === 'syncz' && basename(dirname(dirname(f))) === 'cluster');
  if (file === undefined) return undefined;
  try {
    const manifest = ManifestSchema.safeParse(JSON.parse(await readFile(join(dirname(file), '..', '..', 'manifest.json'), 'utf8')));
    const at = manifest.success ? (manifest.data.finishedAt ?? manifest.data.startedAt) : undefined;
    return at === undefined ? undefined : new Date(at);
  } catch {
    return undefined;
  }
}

async function readSynczFile(file: string, readStdin: () => Promise<string>): Promise<unknown[]> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliUsageError(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`${file}: not JSON (${(error as Error).message})`);
  }
  const parsed = SynczFileSchema.safeParse(json);
  if (!parsed.success) throw new CliUsageError(`${file}: not a /debug/syncz answer (expected a JSON array of proxy statuses)`);
  return parsed.data;
}
