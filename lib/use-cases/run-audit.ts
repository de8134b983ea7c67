import type { AnalyzeOptions } from '../core/analyze.ts';
import type { ReportFormat } from '../core/render/artifacts.ts';
import { BUNDLE_VERSION, type BundleSource, type Manifest } from '../core/evidence-bundle.ts';
import { namespaceOfOutput } from '../core/namespaces.ts';
import type { AuditStore, EvidenceWriter } from '../ports/audit-store.ts';
import type { FleetRunner } from '../ports/fleet-runner.ts';
import type { MeshReader } from '../ports/mesh-reader.ts';
import { analyzeStoredBundle, type AnalyzeResult } from './analyze-bundle.ts';

export interface RunAuditDeps {
  fleet: FleetRunner;
  mesh: MeshReader;
  store: AuditStore;
  clock: () => Date;
  /** The API calls the run made per service and operation, recorded in the final manifest as `apiCalls`. */
  apiCalls?: () => Record<string, number>;
}

export interface RunAuditRequest {
  runId: string;
  source: BundleSource;
  toolVersion: string;
  targets?: unknown;
  analyze?: AnalyzeOptions;
  /** The report files to write besides report.json (default: all). */
  formats?: readonly ReportFormat[];
  /** Called as VMs report in, for a progress display. */
  onProgress?: (event: { done: number; total: number }) => void;
}

export interface RunAuditResult extends AnalyzeResult {
  location: string;
}

/**
 * Runs one audit: inventory → diagnostics on every VM → the mesh's view → evidence bundle, then the
 * report from the bundle as stored (so `fleet-audit analyze` on the same bundle gives the same report).
 */
export async function runAudit(deps: RunAuditDeps, request: RunAuditRequest): Promise<RunAuditResult> {
  const run = await deps.store.openRun(request.runId);
  const manifest = startManifest(request, deps.clock());
  await run.evidence.writeManifest(manifest);

  const inventory = await deps.fleet.listInstances();
  await run.evidence.writeInventory(inventory);

  const namespaces = new Set<string>();
  let done = 0;
  const total = inventory.InstanceInformationList.length;
  await deps.fleet.runDiagnostics(inventory.InstanceInformationList, async (invocation) => {
    await run.evidence.writeInvocation(invocation);
    const ns = invocation.StandardOutputContent ? namespaceOfOutput(invocation.StandardOutputContent) : undefined;
    if (ns) namespaces.add(ns);
    request.onProgress?.({ done: ++done, total });
  });

  await finishEvidence(run.evidence, deps.mesh, manifest, namespaces, deps.clock, () =>
    deps.apiCalls ? { apiCalls: deps.apiCalls() } : {},
  );

  const result = await analyzeStoredBundle(run.evidence, run.reports, request.analyze, request.formats);
  return { ...result, location: run.location };
}

/** The manifest a run starts with; `finishedAt` is added by finishEvidence. */
export function startManifest(request: Pick<RunAuditRequest, 'runId' | 'source' | 'toolVersion' | 'targets'>, startedAt: Date): Manifest {
  return {
    bundleVersion: BUNDLE_VERSION,
    runId: request.runId,
    startedAt: startedAt.toISOString(),
    source: request.source,
    toolVersion: request.toolVersion,
    ...(request.targets === undefined ? {} : { targets: request.targets }),
  };
}

/** The mesh a run reads, or why it reads none on purpose (no cluster is configured). */
export type MeshSource = MeshReader | { notRead: string };

/**
 * Completes a bundle once every VM has an invocation: the mesh's view of the VMs' namespaces, then the
 * manifest with `finishedAt` (and whatever `extra` gives, read after the mesh). Without a mesh to read, the
 * manifest says why, so that the analysis (and any replay of the bundle) skips the mesh controls with that reason.
 */
export async function finishEvidence(
  evidence: EvidenceWriter,
  mesh: MeshSource,
  manifest: Manifest,
  namespaces: Iterable<string>,
  clock: () => Date,
  extra: () => Record<string, unknown> = () => ({}),
): Promise<void> {
  if ('notRead' in mesh) {
    await evidence.writeManifest({ ...manifest, finishedAt: clock().toISOString(), clusterNotRead: mesh.notRead, ...extra() });
    return;
  }
  const cluster = await mesh.readCluster([...new Set(namespaces)].sort());
  await evidence.writeCluster(cluster);
  await evidence.writeManifest({ ...manifest, finishedAt: clock().toISOString(), ...extra() });
}
