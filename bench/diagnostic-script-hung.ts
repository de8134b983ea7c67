/**
 * The longest run of the diagnostic script: on a fake VM where every tool it bounds never answers and
 * ignores SIGTERM, with the script's own limits (10 s a tool, 5 s of grace before KILL, 120 s for all
 * tools) and the real coreutils timeout. Prints the wall time of each shell's run, and the sections it
 * reported as timed out. Takes about two minutes a shell. Not part of `npm run bench`.
 *
 *   node bench/diagnostic-script-hung.ts [dash|bash|busybox ...]
 */
import { splitDiagnosticOutput } from '../lib/core/diagnostic-output.ts';
import { createFakeVm, SHELLS, type ShellName } from '../test/diagnostic-script/fake-vm.ts';

const TOOLS = [
  'hostname',
  'ip',
  'id',
  'systemctl',
  'curl',
  'journalctl',
  'iptables-save',
  'iptables-legacy-save',
  'iptables-nft-save',
  'ip6tables-save',
  'ip6tables-legacy-save',
  'ip6tables-nft-save',
  'stat',
  'openssl',
  'dpkg-query',
  'pilot-agent',
];

const shells = process.argv.slice(2) as ShellName[];
for (const shell of shells.length > 0 ? shells : SHELLS) {
  if (!SHELLS.includes(shell)) throw new Error(`unknown shell ${shell}: one of ${SHELLS.join(', ')}`);
  const vm = await createFakeVm({ hang: TOOLS, hangIgnoresTerm: true });
  try {
    const started = performance.now();
    // A deadline far beyond SSM's default execution timeout (300 s): a run that reaches it is a failure.
    const result = await vm.run(shell, { deadlineMs: 600_000 });
    const seconds = (performance.now() - started) / 1000;
    const split = splitDiagnosticOutput(result.stdout);
    const timedOut = [...split.sections.values()].filter((s) => s.rc === 124).map((s) => s.name);
    const asked = new Set(vm.calls().map((c) => c.split(' ')[0]));
    console.log(
      `${shell}: ${seconds.toFixed(1)} s, exit ${result.code}, ${split.sections.size} sections (${timedOut.length} timed out), DONE ${split.truncated ? 'missing' : 'printed'}`,
    );
    console.log(
      `  hung tools run: ${TOOLS.filter((t) => asked.has(t)).join(' ')}; never run: ${TOOLS.filter((t) => !asked.has(t)).join(' ') || '-'}`,
    );
  } finally {
    await vm.close();
  }
}
