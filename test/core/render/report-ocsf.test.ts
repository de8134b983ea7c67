import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OCSF_VERSION, renderReportOcsf } from '../../../lib/core/render/report-ocsf.ts';
import { expectGolden } from '../../support/golden.ts';
import { HOSTILE_TEXT, hostileReport } from '../../support/hostile-report.ts';
import { sampleReport } from '../../support/sample-report.ts';

/*
 * The attributes of an OCSF 1.3.0 Compliance Finding that the events must carry, written from the schema's
 * pages (https://schema.ocsf.io/1.3.0/...): every attribute the class and its objects mark required, and
 * the recommended ones this project fills. Enumerations list the values the pages define; 99 is the
 * schema's "Other" for a value the enumeration does not have.
 */
const Timestamp = z.number().int().positive(); // timestamp_t: milliseconds since the epoch (dictionary, types)

// /objects/product: vendor_name required; name or uid at least one (_entity); version recommended.
const ProductSchema = z.object({
  vendor_name: z.string().min(1),
  name: z.string().min(1),
  uid: z.string().optional(),
  version: z.string().optional(),
});
// /objects/metadata: product and version required.
const MetadataSchema = z.object({
  version: z.literal('1.3.0'),
  product: ProductSchema,
  uid: z.string().optional(),
  event_code: z.string().optional(),
  profiles: z.array(z.string()).optional(),
});
// /objects/finding_info: uid and title required; created_time and desc optional.
const FindingInfoSchema = z.object({
  uid: z.string().min(1),
  title: z.string().min(1),
  desc: z.string().optional(),
  created_time: Timestamp.optional(),
});
// /objects/compliance: standards required (string array); control, status, status_id recommended; status_id 1 Pass, 2 Warning, 3 Fail.
const ComplianceSchema = z.object({
  standards: z.array(z.string()).min(1),
  control: z.string(),
  status_id: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(99)]),
  status: z.string(),
  status_code: z.string().optional(),
  status_detail: z.string().optional(),
});
// /objects/resource_details (extends _resource, _entity): name or uid at least one; type, region, namespace optional.
const ResourceSchema = z
  .object({
    uid: z.string().optional(),
    name: z.string().optional(),
    type: z.string().optional(),
    region: z.string().optional(),
    namespace: z.string().optional(),
  })
  .refine((r) => r.uid !== undefined || r.name !== undefined, { error: 'a resource needs a uid or a name' });
// /objects/remediation: desc required.
const RemediationSchema = z.object({ desc: z.string().min(1) });
// /objects/cloud: provider required, region recommended.
const CloudSchema = z.object({ provider: z.string().min(1), region: z.string().optional() });

// /classes/compliance_finding with what it inherits from finding and base_event (classification, occurrence).
const ComplianceFindingSchema = z.object({
  class_uid: z.literal(2003),
  category_uid: z.literal(2),
  activity_id: z.literal(1), // 1 Create (/classes/finding)
  type_uid: z.literal(200301), // class_uid * 100 + activity_id
  severity_id: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5), z.literal(6), z.literal(99)]),
  severity: z.enum(['Unknown', 'Informational', 'Low', 'Medium', 'High', 'Critical', 'Fatal', 'Other']),
  status_id: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]), // New, In Progress, Suppressed, Resolved (/classes/finding)
  status: z.enum(['New', 'In Progress', 'Suppressed', 'Resolved']),
  time: Timestamp,
  message: z.string(),
  metadata: MetadataSchema,
  finding_info: FindingInfoSchema,
  compliance: ComplianceSchema,
  resources: z.array(ResourceSchema).min(1),
  remediation: RemediationSchema.optional(),
  cloud: CloudSchema.optional(),
});

const parseEvents = (text: string): z.infer<typeof ComplianceFindingSchema>[] => z.array(ComplianceFindingSchema).parse(JSON.parse(text));

describe('renderReportOcsf', () => {
  it('renders each finding as an OCSF Compliance Finding', () => {
    expectGolden(renderReportOcsf(hostileReport(), { toolVersion: '0.1.0', region: 'eu-west-1' }), 'report.ocsf.json');
  });

  it('holds to the OCSF 1.3.0 attributes it targets, for every status and subject kind', () => {
    const report = hostileReport();
    const events = parseEvents(renderReportOcsf(report, { toolVersion: '0.1.0', region: 'eu-west-1' }));
    expect(events).toHaveLength(report.findings.length);
    expect(OCSF_VERSION).toBe('1.3.0');
    const byStatus = (status: string) => events.filter((_, i) => report.findings[i]!.status === status);
    expect(byStatus('PASS').map((e) => [e.compliance.status_id, e.status_id])).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    expect(byStatus('FAIL').every((e) => e.compliance.status_id === 3 && e.status === 'New')).toBe(true);
    expect(byStatus('WAIVED').map((e) => [e.compliance.status, e.status])).toEqual([['Fail', 'Suppressed']]);
    expect(byStatus('ERROR').map((e) => e.compliance.status)).toEqual(['Warning']);
    expect(byStatus('SKIP').map((e) => [e.compliance.status_id, e.compliance.status])).toEqual([[99, 'Skip']]);
    expect(events.map((e) => e.severity_id)).toEqual([4, 4, 4, 5, 5, 5, 3, 4, 2, 1]);
    expect(events[0]!.time).toBe(Date.parse('2026-11-26T06:04:30.250Z'));
    expect(events[0]!.metadata.product).toEqual({
      uid: 'fleet-audit',
      name: 'Istio VM fleet audit',
      vendor_name: 'Istio VM fleet audit',
      version: '0.1.0',
    });
    expect(events[0]!.resources).toEqual([
      { uid: 'i-0a1b2c3d4e5f60001', name: HOSTILE_TEXT.formula, type: 'AWS::EC2::Instance', region: 'eu-west-1', namespace: 'payments' },
    ]);
    const entry = events[report.findings.findIndex((f) => f.subject.kind === 'workloadentry')]!;
    expect(entry.resources).toEqual([
      { uid: 'payments/web-9', name: 'web-9', type: 'networking.istio.io/WorkloadEntry', region: 'eu-west-1', namespace: 'payments' },
    ]);
    const proxy = events[report.findings.findIndex((f) => f.subject.kind === 'proxy')]!;
    expect(proxy.resources.map((r) => r.uid)).toEqual(['web-1.payments', 'i-0a1b2c3d4e5f60001']);
    expect(new Set(events.map((e) => e.metadata.uid)).size).toBe(events.length);
  });

  it('keeps the finding uid from run to run, and names the event of each run', () => {
    const a = parseEvents(renderReportOcsf(hostileReport()));
    const b = parseEvents(renderReportOcsf({ ...hostileReport(), runId: 'another-run' }));
    expect(b.map((e) => e.finding_info.uid)).toEqual(a.map((e) => e.finding_info.uid));
    expect(b[0]!.metadata.uid).not.toBe(a[0]!.metadata.uid);
    expect(a[0]!.finding_info.uid).toBe('fleet-audit:COLLECT-01:vm:i-0a1b2c3d4e5f60001');
  });

  it('leaves out what it does not know rather than inventing it', () => {
    const [event] = parseEvents(renderReportOcsf(hostileReport()));
    expect(event!.cloud).toBeUndefined();
    expect(event!.resources[0]!.region).toBeUndefined();
    expect(event!.metadata.product.version).toBeUndefined();
    const skip = parseEvents(renderReportOcsf(hostileReport())).find((e) => e.compliance.status_code === 'SKIP')!;
    expect(skip.remediation).toBeUndefined();
    expect(renderReportOcsf({ ...hostileReport(), findings: [] })).toBe('[]\n');
  });

  it('renders a report the analyzer made', () => {
    const report = sampleReport();
    expect(parseEvents(renderReportOcsf(report))).toHaveLength(report.findings.length);
  });
});
