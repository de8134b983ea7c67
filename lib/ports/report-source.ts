import type { Report } from '../core/report.ts';
import type { EvidenceReader } from './audit-store.ts';

/** Where a report can come from: a stored report.json, or a bundle to analyze in memory. */
export interface ReportSource {
  /** The stored report, validated, or undefined when there is none. */
  storedReport(): Promise<Report | undefined>;
  /** The run's evidence bundle, when the source holds one. */
  bundle(): EvidenceReader | undefined;
}
