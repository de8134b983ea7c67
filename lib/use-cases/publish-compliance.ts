import type { Report } from '../core/report.ts';
import { ssmComplianceRecords } from '../core/ssm-compliance.ts';
import type { CompliancePublisher } from '../ports/compliance-publisher.ts';

export interface PublishComplianceResult {
  published: number;
  failed: Array<{ instanceId: string; error: string }>;
}

/** Publishes a finished run's findings as each VM's compliance items; a VM that fails is reported, the others still go. */
export async function publishCompliance(publisher: CompliancePublisher, report: Report): Promise<PublishComplianceResult> {
  const outcomes = await publisher.publish(ssmComplianceRecords(report));
  const failed = outcomes.flatMap((o) => (o.ok ? [] : [{ instanceId: o.instanceId, error: o.error }]));
  return { published: outcomes.length - failed.length, failed };
}
