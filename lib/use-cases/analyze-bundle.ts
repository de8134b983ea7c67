import { analyzeCollected, type AnalyzeOptions } from '../core/analyze.ts';
import { collectVm } from '../core/collected-vm.ts';
import { SnapshotPool } from '../core/snapshot-pool.ts';
import { renderContextOf, renderEach, type ReportFormat } from '../core/render/artifacts.ts';
import type { Manifest } from '../core/evidence-bundle.ts';
import type { Report } from '../core/report.ts';
import type { ArtifactWriter, EvidenceReader } from '../ports/audit-store.ts';

export interface AnalyzeResult {
  report: Report;
  /** Where each rendered file was written. */
  written: string[];
}

/**
 * Analyzes a stored evidence bundle and writes its reports: report.json always, and the renderings in
 * `formats` (default: all). Each VM's output is parsed as it is read and dropped, so memory grows with the
 * fleet's snapshots, not its outputs. Reading fails before anything is written, so a malformed bundle
 * never leaves a partial report behind.
 */
export async function analyzeStoredBundle(
  reader: EvidenceReader,
  writer: ArtifactWriter,
  options: AnalyzeOptions = {},
  formats?: readonly ReportFormat[],
): Promise<AnalyzeResult> {
  const { report, manifest } = await readAndAnalyze(reader, options);
  const written: string[] = [];
  // Each file is written before the next is rendered: only one of them is held at a time.
  for (const artifact of renderEach(report, { ...(formats ? { formats } : {}), context: renderContextOf(manifest) }))
    written.push(await writer.writeArtifact(artifact));
  return { report, written };
}

/** Reads and analyzes; the snapshots are unreachable once it returns, so rendering does not hold them too. */
async function readAndAnalyze(reader: EvidenceReader, options: AnalyzeOptions): Promise<{ report: Report; manifest: Manifest }> {
  const pool = new SnapshotPool();
  const { invocations, ...bundle } = await reader.readDigested((invocation) => collectVm(invocation, pool));
  return { report: analyzeCollected({ ...bundle, vms: invocations }, options), manifest: bundle.manifest };
}
