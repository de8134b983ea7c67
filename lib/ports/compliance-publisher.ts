import type { SsmComplianceRecord } from '../core/ssm-compliance.ts';

/** What became of one VM's compliance items. */
export type PublishOutcome = { instanceId: string; ok: true } | { instanceId: string; ok: false; error: string };

/** Publishes each VM's compliance items where the fleet's owners look (SSM Compliance). */
export interface CompliancePublisher {
  /** One outcome per record; a VM that could not be published is an outcome, never a thrown error. */
  publish(records: readonly SsmComplianceRecord[]): Promise<PublishOutcome[]>;
}
