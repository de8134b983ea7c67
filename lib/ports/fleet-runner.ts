import type { InstanceInformation, Inventory, Invocation } from '../core/evidence-bundle.ts';

/** Reaches the VMs: lists the managed nodes in scope and runs the diagnostic script on them. */
export interface FleetRunner {
  /** The managed nodes in scope, as SSM DescribeInstanceInformation lists them (all pages merged). */
  listInstances(): Promise<Inventory>;
  /**
   * Runs the diagnostic script on every instance and hands each result over as soon as it is known.
   * Every instance gets exactly one invocation, whatever happened to it.
   */
  runDiagnostics(instances: InstanceInformation[], onInvocation: (invocation: Invocation) => Promise<void>): Promise<void>;
}
