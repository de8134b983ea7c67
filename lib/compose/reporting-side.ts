import { EventBridgeAuditEvents } from '../adapters/eventbridge-audit-events.ts';
import { S3ReportFiles } from '../adapters/s3-report-files.ts';
import { S3RunHistory } from '../adapters/s3-run-history.ts';
import { S3WaiversSource } from '../adapters/s3-waivers-source.ts';
import { SsmCompliancePublisher } from '../adapters/ssm-compliance-publisher.ts';
import type { AuditEvents } from '../ports/audit-events.ts';
import type { ReportFiles } from '../ports/report-files.ts';
import type { RunHistory } from '../ports/run-history.ts';
import type { WaiversSource } from '../ports/waivers-source.ts';
import type { AwsSideSettings } from './aws-side.ts';

/**
 * Where a finished run is told and read: its announcement, the runs before it, the waivers and SSM Compliance.
 * Apart from the fleet's side, so that a function that only starts audits does not bundle these clients.
 */
export function composeReportingSide(settings: Pick<AwsSideSettings, 'region' | 'credentials' | 'ssmEndpoint'>): {
  compliance(): SsmCompliancePublisher;
  events(): AuditEvents;
  history(bucket: string): RunHistory;
  reportFiles(bucket: string): ReportFiles;
  waivers(bucket: string, key: string): WaiversSource;
} {
  const region = settings.region ? { region: settings.region } : {};
  return {
    compliance: () =>
      new SsmCompliancePublisher(undefined, {
        clientConfig: {
          ...region,
          ...(settings.credentials ? { credentials: settings.credentials } : {}),
          ...(settings.ssmEndpoint ? { endpoint: settings.ssmEndpoint } : {}),
        },
      }),
    events: () => new EventBridgeAuditEvents({ clientConfig: { ...region } }),
    history: (bucket) => new S3RunHistory({ clientConfig: { ...region }, bucket }),
    reportFiles: (bucket) => new S3ReportFiles({ clientConfig: { ...region }, bucket }),
    waivers: (bucket, key) => new S3WaiversSource({ bucket, key, clientConfig: { ...region } }),
  };
}
