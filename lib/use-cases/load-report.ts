import { analyzeStoredBundle } from './analyze-bundle.ts';
import type { Report } from '../core/report.ts';
import type { ArtifactWriter } from '../ports/audit-store.ts';
import type { ReportSource } from '../ports/report-source.ts';

/** The run's report: the stored one, else the bundle analyzed in memory (nothing is written). */
export async function loadReport(source: ReportSource): Promise<Report | undefined> {
  const stored = await source.storedReport();
  if (stored) return stored;
  const bundle = source.bundle();
  if (!bundle) return undefined;
  const nowhere: ArtifactWriter = { writeArtifact: async (artifact) => artifact.name };
  // Only report.json: the other renderings would be made and thrown away.
  return (await analyzeStoredBundle(bundle, nowhere, {}, ['json'])).report;
}
