import { expect } from 'vitest';
import { analyzeBundle } from '../../lib/core/analyze.ts';
import { InvocationSchema, type EvidenceBundle, type Invocation } from '../../lib/core/evidence-bundle.ts';
import { recordFinality, RECORD_FINALITY } from '../../lib/core/record-finality.ts';
import { renderReportArtifacts } from '../../lib/core/render/artifacts.ts';
import type { Report } from '../../lib/core/report.ts';
import type { SimStoredObject } from '../../sim/s3-server.ts';

/**
 * What must hold after any fault, checked the same way for every scenario:
 * - every targeted VM is in the report exactly once, with a status; a VM without a complete successful
 *   diagnostic run is UNKNOWN, never COMPLIANT;
 * - no stored invocation record was ever replaced by a less final one (none < placeholder < in progress
 *   < terminal), nor a terminal one by another: checked on every object the S3 endpoint stored, in order;
 * - the report is what the stored bundle gives when analyzed again.
 */

/** Every VM once, each with a status, and none that could not be checked called COMPLIANT. */
export function expectEveryVmOnce(report: Report, bundle: EvidenceBundle, targeted: readonly string[]): void {
  const listed = report.vms.map((vm) => vm.instanceId);
  expect([...listed].sort(), 'each targeted VM appears once in the report').toEqual([...targeted].sort());
  expect(Object.keys(bundle.invocations).sort(), 'each targeted VM has one record in the bundle').toEqual([...targeted].sort());
  // Without the WorkloadEntries no VM's registration in the mesh was checked.
  const meshUnread = (bundle.cluster?.problems ?? []).some((p) => p.part === 'workloadentries');
  for (const vm of report.vms) {
    expect(['COMPLIANT', 'NON_COMPLIANT', 'UNKNOWN'], vm.instanceId).toContain(vm.status);
    if (meshUnread) expect(vm.status, `${vm.instanceId} was not checked against the mesh (WorkloadEntries unread)`).not.toBe('COMPLIANT');
    const record = bundle.invocations[vm.instanceId];
    if (!checked(record))
      expect(vm.status, `${vm.instanceId} was not checked (${record?.Status}/${record?.StatusDetails})`).toBe('UNKNOWN');
  }
}

/** A VM the diagnostics ran on to the end, with output the audit kept. */
function checked(record: Invocation | undefined): boolean {
  return (
    record !== undefined &&
    record.Status === 'Success' &&
    record.StandardOutputContent !== '' &&
    record.FleetAuditCollectionError === undefined
  );
}

export interface RecordWriteHistory {
  /** Object key → the finality of each record stored there, in order. */
  byKey: Map<string, Array<{ finality: number; body: string }>>;
}

/** The record writes among the stored objects: keys under `<run>/evidence/invocations/` (and `late/invocations/`). */
export function recordWrites(stored: readonly SimStoredObject[], runPrefix: string): RecordWriteHistory {
  const byKey = new Map<string, Array<{ finality: number; body: string }>>();
  for (const object of stored) {
    if (!object.key.startsWith(runPrefix) || !/\/invocations\/[^/]+\.json$/.test(object.key)) continue;
    const parsed = InvocationSchema.safeParse(JSON.parse(object.body));
    const finality = parsed.success ? recordFinality(parsed.data) : RECORD_FINALITY.none;
    const writes = byKey.get(object.key) ?? [];
    writes.push({ finality, body: object.body });
    byKey.set(object.key, writes);
  }
  return { byKey };
}

/** No record went down in finality, and a terminal record was never rewritten. */
export function expectRecordsOnlyGrewFinal(history: RecordWriteHistory): void {
  for (const [key, writes] of history.byKey) {
    for (let i = 1; i < writes.length; i++) {
      const before = writes[i - 1]!;
      const after = writes[i]!;
      expect(
        after.finality,
        `${key}: write ${i + 1} of ${writes.length} replaced finality ${before.finality} by ${after.finality}`,
      ).toBeGreaterThanOrEqual(before.finality);
      if (before.finality === RECORD_FINALITY.terminal)
        expect(after.body, `${key}: a terminal record was rewritten (write ${i + 1})`).toBe(before.body);
    }
  }
}

/** The report stored is, byte for byte, the report.json the stored bundle gives. */
export function expectReportFromBundle(storedText: string, bundle: EvidenceBundle): void {
  const rendered = renderReportArtifacts(analyzeBundle(bundle)).find((artifact) => artifact.name === 'report.json');
  expect(rendered?.body, 'report.json analyzed again from the stored bundle').toBe(storedText);
}
