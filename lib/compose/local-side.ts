import { startApiServer } from '../adapters/http-api-server.ts';
import { LocalArtifactWriter, LocalAuditStore, LocalBundle } from '../adapters/local-audit-store.ts';
import { LocalReportFiles } from '../adapters/local-report-files.ts';
import { LocalReportSource } from '../adapters/local-report-source.ts';
import { LocalRunHistory } from '../adapters/local-run-history.ts';
import { MemoryIdempotencyStore } from '../adapters/memory-idempotency-store.ts';
import { MemoryRunRegistry } from '../adapters/memory-run-registry.ts';

export { BundleError } from '../adapters/local-audit-store.ts';
export { startApiServer };

/** The audit store of a machine's own disk: each run a directory of `dir`. */
export function composeLocalAuditStore(dir: string): LocalAuditStore {
  return new LocalAuditStore(dir);
}

/** One evidence bundle on disk, read back for analysis. */
export function composeLocalBundle(bundleDir: string): LocalBundle {
  return new LocalBundle(bundleDir);
}

/** Where the reports of an analysis are written. */
export function composeLocalArtifactWriter(outDir: string): LocalArtifactWriter {
  return new LocalArtifactWriter(outDir);
}

/** The report of one run directory. */
export function composeLocalReportSource(dir: string): LocalReportSource {
  return new LocalReportSource(dir);
}

/** The runs of a local store, oldest first. */
export function composeLocalRunHistory(dir: string): LocalRunHistory {
  return new LocalRunHistory(dir);
}

/** What the local API serves from a store directory: the runs kept in memory, their evidence and reports on disk. */
export function composeLocalApiSide(dir: string): {
  registry: MemoryRunRegistry;
  store: LocalAuditStore;
  reports: LocalReportFiles;
  history: LocalRunHistory;
  idempotency: MemoryIdempotencyStore;
} {
  return {
    registry: new MemoryRunRegistry(),
    store: new LocalAuditStore(dir),
    reports: new LocalReportFiles(dir),
    history: new LocalRunHistory(dir),
    idempotency: new MemoryIdempotencyStore(),
  };
}
