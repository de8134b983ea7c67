/** The shims standing in for the VM's tools on PATH: where each is written, with the calls log each appends to. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realTool } from './host-tools.ts';
import { iptablesShim, iptablesStateShim, nftShim } from './netfilter-shims.ts';
import { sq } from './shell-word.ts';
import { lines, write } from './text-files.ts';
import type { FakeVmOptions } from './types.ts';
import { IPTABLES_TOOLS, VM } from './vm-defaults.ts';
import { dateShim, statShim, timeoutShim } from './wrapped-tool-shims.ts';

// What /usr/local/bin/istio-start.sh prints before handing over to pilot-agent, whose logs go to files.
const JOURNAL_START =
  "+ exec su -s /bin/bash -c 'exec /usr/local/bin/pilot-agent proxy 2>> /var/log/istio/istio.err.log >> /var/log/istio/istio.log' istio-proxy";

/** POSIX sh shims; each records its invocation and answers like the real tool on an Istio VM. */
export function writeShims(dir: string, base: string, callsLog: string, options: FakeVmOptions, without: Set<string>): void {
  const unit = options.unit ?? 'running';
  const stamp = options.oldSystemd ? 'Tue 2025-11-26 06:20:00 UTC' : `@${VM.activeEnterSeconds}`;
  const systemdProps =
    options.systemdProperties ??
    (unit === 'not-found'
      ? [
          'LoadState=not-found',
          'ActiveState=inactive',
          'SubState=dead',
          'UnitFileState=',
          'NRestarts=0',
          'ActiveEnterTimestamp=',
          'MainPID=0',
        ]
      : [
          'LoadState=loaded',
          `ActiveState=${unit === 'running' ? 'active' : 'inactive'}`,
          `SubState=${unit === 'running' ? 'running' : 'dead'}`,
          'UnitFileState=enabled',
          'NRestarts=0',
          `ActiveEnterTimestamp=${unit === 'running' ? stamp : ''}`,
          `MainPID=${unit === 'running' ? VM.mainPid : 0}`,
        ]);
  // Kept outside the root: the journal is not a file the script reads.
  const journal = join(base, 'journal');
  writeFileSync(journal, lines(options.journal ?? [JOURNAL_START, ...(options.journalLines ?? [])]));
  const hostname = options.hostname ?? VM.hostname;
  // hostname(1): -I prints every address but those of the loopback interface and IPv6 link-local ones.
  const shown = (options.addresses ?? [VM.ip, VM.ip6]).filter((a) => !/^127\./.test(a) && a !== '::1' && !/^fe[89ab][0-9a-f]:/i.test(a));
  const version = options.packageVersion ?? VM.istioVersion;
  const shims: Record<string, string> = {
    systemctl: `
case " $* " in *" show "*) ;; *) echo "systemctl shim: only show is expected: $*" >&2; exit 64 ;; esac
${options.oldSystemd ? `case " $* " in *" --timestamp=unix "*) echo "systemctl: unrecognized option '--timestamp=unix'" >&2; exit 1 ;; esac` : ''}
cat <<'EOF'
${systemdProps.join('\n')}
EOF`,
    journalctl: `
case " $* " in *" -u istio "*) ;; *) echo "journalctl shim: only -u istio is expected: $*" >&2; exit 64 ;; esac
cat ${sq(journal)}`,
    hostname: `
case "$1" in
  -s) echo ${sq(hostname)} ;;
  -I) echo ${sq(shown.map((a) => `${a} `).join(''))} ;;
  *) echo ${sq(`${hostname}.ec2.internal`)} ;;
esac`,
    id: `
case "$1 $2" in
  "-u istio-proxy") echo ${options.proxyUid ?? VM.proxyUid} ;;
  "-g istio-proxy") echo ${options.proxyGid ?? options.proxyUid ?? VM.proxyUid} ;;
  *) echo "id: '$2': no such user" >&2; exit 1 ;;
esac`,
    'pilot-agent': `
case "$*" in "version -s") echo ${sq(options.pilotAgentVersion ?? VM.istioVersion)} ;; *) echo "pilot-agent shim: unexpected $*" >&2; exit 64 ;; esac`,
  };
  if (options.packageManager === 'rpm') {
    shims.rpm = `
case "$*" in *istio-sidecar*) printf '%s' ${sq(version)} ;; *) echo "package $* is not installed"; exit 1 ;; esac`;
  } else {
    shims['dpkg-query'] = `
case "$*" in *istio-sidecar*) printf '%s' ${sq(version)} ;; *) echo "dpkg-query: no packages found" >&2; exit 1 ;; esac`;
  }
  if (options.iptables) {
    for (const [tool, state] of Object.entries(options.iptables)) shims[tool] = iptablesStateShim(tool, state, join(base, 'iptables'));
  } else {
    for (const tool of IPTABLES_TOOLS) shims[tool] = iptablesShim(tool);
  }
  if (options.nftTables) shims.nft = nftShim(options.nftTables, join(base, 'nft'));
  if (options.clock !== undefined || options.clockStep !== undefined)
    shims.date = dateShim(options.clock, options.clockStep, join(base, 'clock'));
  if (options.fileOwner) shims.stat = statShim(options.fileOwner);
  if (options.timeout) shims.timeout = timeoutShim(options.timeout.tool, options.timeout.seconds, options.hang ?? []);
  if (options.awk === 'busybox') shims.awk = `exec ${sq(realTool('busybox'))} awk "$@"`;
  // exec: the process a timeout kills is the one that hangs, with no child left holding its output open.
  // An ignored signal stays ignored across exec.
  for (const name of options.hang ?? [])
    shims[name] = `${options.hangIgnoresTerm ? "trap '' TERM\n" : ''}exec ${sq(realTool('sleep'))} 120`;

  for (const [name, body] of Object.entries(shims)) {
    if (without.has(name)) continue;
    write(join(dir, name), `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${callsLog}'\n${body.trimStart()}\n`, 0o755);
  }
}
