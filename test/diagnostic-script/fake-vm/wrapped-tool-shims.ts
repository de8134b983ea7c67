/** Shims that stand in front of a real tool of the test machine, changing only what the VM must answer differently. */
import { writeFileSync } from 'node:fs';
import { realTool } from './host-tools.ts';
import { sq } from './shell-word.ts';

/**
 * `date -u +%s` answers the VM's clock, and `date +%s` a clock that advances by `step` seconds at each
 * call (kept in the file `state`); anything else goes to the real date.
 */
export function dateShim(clock: number | undefined, step: number | undefined, state: string): string {
  writeFileSync(state, `${Math.floor(Date.now() / 1000)}\n`);
  return `
case "$*" in
  ${clock === undefined ? '' : `"-u +%s") echo ${Math.floor(clock)} ;;`}
  ${step === undefined ? '' : `"+%s") read -r n < ${sq(state)}; n=$((n + ${step})); echo "$n" > ${sq(state)}; echo "$n" ;;`}
  *) exec ${sq(realTool('date'))} "$@" ;;
esac`;
}

/** coreutils' or busybox's timeout, with its duration and -k grace (the only options the script passes) set to `seconds`. */
export function timeoutShim(tool: 'coreutils' | 'busybox', seconds: number, hung: readonly string[]): string {
  const real = tool === 'busybox' ? `${sq(realTool('busybox'))} timeout` : sq(realTool('timeout'));
  const names = hung.length > 0 ? hung.map(sq).join(' | ') : "''";
  return `
if [ "$1" = -k ]; then
  k=$2 t=$3
  shift 3
  case "$1" in ${names}) k=${seconds} t=${seconds} ;; esac
  exec ${real} -k "$k" "$t" "$@"
fi
exec ${real} "$@"`;
}

/** The real stat, with %u, %g and %U of every -c format answered as the given owner. */
export function statShim(owner: { uid: number; gid: number; name: string }): string {
  return `
prev=
for a do
  shift
  if [ "$prev" = -c ]; then
    f=$a a=
    while [ -n "$f" ]; do
      case $f in
        %u*) a=\${a}${owner.uid} f=\${f#%u} ;;
        %g*) a=\${a}${owner.gid} f=\${f#%g} ;;
        %U*) a=\${a}${sq(owner.name)} f=\${f#%U} ;;
        %?*) a=\${a}\${f%"\${f#??}"} f=\${f#??} ;;
        *) a=\${a}\${f%"\${f#?}"} f=\${f#?} ;;
      esac
    done
    prev=-c-done
  else
    prev=$a
  fi
  set -- "$@" "$a"
done
exec ${sq(realTool('stat'))} "$@"`;
}
