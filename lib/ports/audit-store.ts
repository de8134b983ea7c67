import type { ClusterEvidence, EvidenceBundle, Inventory, Invocation, Manifest } from '../core/evidence-bundle.ts';

/** Writes one run's evidence bundle (docs/design.md), part by part, as it arrives. */
export interface EvidenceWriter {
  writeManifest(manifest: Manifest): Promise<void>;
  writeInventory(inventory: Inventory): Promise<void>;
  writeInvocation(invocation: Invocation): Promise<void>;
  writeCluster(cluster: ClusterEvidence): Promise<void>;
}

/** Reads a whole evidence bundle back, validated; a malformed part is an error that names it. */
export interface EvidenceReader {
  readBundle(): Promise<EvidenceBundle>;
}

/** A rendered output of a run: report.json, report.html… */
export interface Artifact {
  name: string;
  contentType: string;
  body: string;
}

/** Where a run's reports go. Writes are all-or-nothing per artifact: no reader sees half a report. */
export interface ArtifactWriter {
  writeArtifact(artifact: Artifact): Promise<string>;
}

/** One run in the audit store: its evidence and its reports. */
export interface RunStorage {
  /** Where the run lives, for people (a directory or an s3:// URL). */
  location: string;
  evidence: EvidenceWriter & EvidenceReader;
  reports: ArtifactWriter;
}

/** The audit store: every run's evidence and reports (a local directory, or S3 + DynamoDB in AWS). */
export interface AuditStore {
  openRun(runId: string): Promise<RunStorage>;
}
