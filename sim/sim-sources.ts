import type { ClusterEvidence, InstanceInformation, Inventory, Invocation } from '../lib/core/evidence-bundle.ts';
import type { FleetRunner } from '../lib/ports/fleet-runner.ts';
import type { MeshReader } from '../lib/ports/mesh-reader.ts';
import { simClusterEvidence, simInstanceInformation, simInvocation } from './cluster.ts';
import type { SimFleet } from './fleet.ts';

/** Runs the simulated fleet in process: the same evidence the SSM path produces, without a network. */
export class SimFleetRunner implements FleetRunner {
  readonly #fleet: SimFleet;

  constructor(fleet: SimFleet) {
    this.#fleet = fleet;
  }

  async listInstances(): Promise<Inventory> {
    return { InstanceInformationList: this.#fleet.vms.map((vm) => simInstanceInformation(this.#fleet, vm)) };
  }

  async runDiagnostics(instances: InstanceInformation[], onInvocation: (invocation: Invocation) => Promise<void>): Promise<void> {
    const byId = new Map(this.#fleet.vms.map((vm) => [vm.instanceId, vm]));
    for (const instance of instances) {
      const vm = byId.get(instance.InstanceId);
      await onInvocation(
        vm
          ? simInvocation(this.#fleet, vm)
          : {
              InstanceId: instance.InstanceId,
              Status: 'Failed',
              StatusDetails: 'Undeliverable',
              StandardOutputContent: '',
              StandardErrorContent: '',
            },
      );
    }
  }
}

/** Reads the simulated mesh in process. */
export class SimMeshReader implements MeshReader {
  readonly #fleet: SimFleet;

  constructor(fleet: SimFleet) {
    this.#fleet = fleet;
  }

  async readCluster(_namespaces: string[]): Promise<ClusterEvidence> {
    return simClusterEvidence(this.#fleet);
  }
}
