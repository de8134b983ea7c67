import type { ClusterEvidence, EvidenceBundle, Inventory, Invocation, Manifest } from '../core/evidence-bundle.ts';

/** Writes one run's evidence bundle (docs/design.md), part by part, as it arrives. */
export interface EvidenceWriter {
  writeManifest(manifest: Manifest): Promise<void>;
  writeInventory(inventory: Inventory): Promise<void>;
  writeInvocation(invocation: Invocation): Promise<void>;
  writeCluster(cluster: ClusterEvidence): Promise<void>;
}

/** A bundle whose invocations were each digested as they were read (see EvidenceReader.readDigested). */
export interface DigestedBundle<D> extends Omit<EvidenceBundle, 'invocations'> {
  /** instance id → the digest of its invocation. */
  invocations: Map<string, D>;
}

/** Reads a whole evidence bundle back, validated; a malformed part is an error that names it. */
export interface EvidenceReader {
  readBundle(): Promise<EvidenceBundle>;
  /**
   * Reads the bundle passing each invocation to `digest` as soon as it is read, so the raw outputs are never
   * all held at once. An invocation too large to read becomes a record saying so (its VM's collection is
   * ERROR), not a failed read.
   */
  readDigested<D>(digest: (invocation: Invocation) => D): Promise<DigestedBundle<D>>;
}

/** A rendered output of a run: report.json, report.html… */
export interface Artifact {
  name: string;
  contentType: string;
  /**
   * The text, whole or as chunks produced while it is written: at 10,000 VMs a report file is hundreds of
   * megabytes, which the writer then never holds at once.
   */
  body: string | Iterable<string>;
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
