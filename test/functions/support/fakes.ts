import type { ClusterEvidence, Invocation } from '../../../lib/core/evidence-bundle.ts';
import type { MeshReader } from '../../../lib/ports/mesh-reader.ts';
import type { CollectOutcome, CommandFleet } from '../../../lib/ports/run-registry.ts';
import type { HandlerLogger } from '../../../functions/shared/logger.ts';
import { buildBundle, vmOutput, type TestVm } from '../../support/bundle-builder.ts';

/** A fleet in memory: every VM answers at once, unless it is listed as still running. */
export class FakeFleet implements CommandFleet {
  readonly vms: TestVm[];
  readonly running = new Set<string>();
  readonly sent: string[][] = [];
  /** ListCommandInvocations as SsmFleetRunner counts it: one a collection pass here. */
  listed = 0;
  readonly #commandId: string;

  constructor(vms: TestVm[], commandId = 'cmd-0001') {
    this.vms = vms;
    this.#commandId = commandId;
  }

  async listInstances() {
    return { InstanceInformationList: this.vms.map((vm) => ({ InstanceId: vm.instanceId, PingStatus: 'Online' })) };
  }

  async sendDiagnostics(instances: Array<{ InstanceId: string }>) {
    this.sent.push(instances.map((i) => i.InstanceId));
    return [{ commandId: this.#commandId }];
  }

  async collect(
    _commandIds: string[],
    onInvocation: (invocation: Invocation) => Promise<void>,
    options: { skip?: ReadonlySet<string> },
  ): Promise<CollectOutcome> {
    this.listed++;
    const outcome: CollectOutcome = { collected: [], pending: [] };
    for (const vm of this.vms) {
      if (options.skip?.has(vm.instanceId)) continue;
      if (this.running.has(vm.instanceId)) {
        outcome.pending.push({ commandId: this.#commandId, instanceId: vm.instanceId, status: 'InProgress', statusDetails: 'InProgress' });
        continue;
      }
      await onInvocation({
        InstanceId: vm.instanceId,
        CommandId: this.#commandId,
        Status: 'Success',
        StatusDetails: 'Success',
        ResponseCode: 0,
        StandardOutputContent: vmOutput(vm),
        StandardErrorContent: '',
      });
      outcome.collected.push(vm.instanceId);
    }
    return outcome;
  }

  callCounts(): Record<string, number> {
    return { 'SSM.ListCommandInvocations': this.listed };
  }
}

/** The mesh of a test bundle built from the same VMs. */
export function fakeMesh(vms: TestVm[]): MeshReader {
  const cluster: ClusterEvidence = buildBundle({ vms }).cluster!;
  return { readCluster: async () => structuredClone(cluster) };
}

/** A logger that keeps every line, to check what is logged (and what never is). */
export class RecordingLogger implements HandlerLogger {
  readonly lines: Array<{ level: string; message: string; keys: Record<string, unknown>; extra?: Record<string, unknown> }> = [];
  #keys: Record<string, unknown> = {};

  info(message: string, extra?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, keys: { ...this.#keys }, ...(extra ? { extra } : {}) });
  }

  warn(message: string, extra?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, keys: { ...this.#keys }, ...(extra ? { extra } : {}) });
  }

  error(message: string, extra?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, keys: { ...this.#keys }, ...(extra ? { extra } : {}) });
  }

  appendKeys(keys: Record<string, unknown>): void {
    Object.assign(this.#keys, keys);
  }

  resetKeys(): void {
    this.#keys = {};
  }

  /** Everything logged, as one text. */
  text(): string {
    return JSON.stringify(this.lines);
  }
}
