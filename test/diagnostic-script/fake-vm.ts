/**
 * A fake Istio VM for running the real diagnostic script: a temp root holding Istio's files (the
 * script's FLEET_AUDIT_ROOT), a directory of POSIX sh shims standing in for systemctl, journalctl, the
 * iptables-save family, hostname, id, dpkg-query and pilot-agent, a directory of links to the real basic
 * tools the VM is allowed to have, and a loopback HTTP server answering as Envoy's admin port and the
 * agent's readiness port. PATH holds only the two directories, so "tool missing" means not linking it.
 *
 * The parts live in fake-vm/; this file is what tests import.
 */
export { createFakeVm } from './fake-vm/create-fake-vm.ts';
export { findOnPath } from './fake-vm/host-tools.ts';
export { SCRIPT_PATH, SHELLS } from './fake-vm/run-script.ts';
export { SCRIPT_SECTIONS } from './fake-vm/script-sections.ts';
export { testPki, type Pki } from './fake-vm/test-pki.ts';
export type {
  EnvoyCluster,
  EnvoyNode,
  EnvoySecrets,
  FakeVm,
  FakeVmOptions,
  IptablesToolState,
  RunOptions,
  RunResult,
  ShellName,
} from './fake-vm/types.ts';
export { IPTABLES_TOOLS, VM, type IptablesTool } from './fake-vm/vm-defaults.ts';
