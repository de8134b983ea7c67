import type { AnalyzeOptions } from '../core/analyze.ts';
import type { ReportFormat } from '../core/render/artifacts.ts';
import type { AuditStore } from '../ports/audit-store.ts';
import { publishCompliance, type PublishComplianceResult } from '../use-cases/publish-compliance.ts';
import { runAudit, type RunAuditResult } from '../use-cases/run-audit.ts';
import { FleetAuditError } from '../shared/errors.ts';
import { AwsCallError, composeAwsSide, type AwsSideSettings, type SsmTarget } from './aws-side.ts';
import { composeMeshReader, type MeshReaderSettings } from './mesh-reader.ts';
import { composeReportingSide } from './reporting-side.ts';

/** Everything an audit through AWS needs to know: where the fleet and the cluster are, and how to reach them. */
export interface AwsAuditSettings {
  runId: string;
  /** Default: the SDK's chain (AWS_REGION, then the profile's configuration). */
  region?: string;
  /** Default: the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  target: SsmTarget;
  bucket?: string;
  document: string;
  ssmEndpoint?: string;
  s3Endpoint?: string;
  kube: MeshReaderSettings['kube'];
  /** The root-of-trust ConfigMap's name, when set by hand (otherwise the reader asks istiod's pods). */
  rootCaConfigMap?: string;
  /** What the manifest records as the run's targets, besides the region. */
  targets: Record<string, unknown>;
  /** Publish each VM's findings as SSM Compliance items after the run (default true). */
  ssmCompliance?: boolean;
  /** Polling and retry timings of the SSM runner (the simulator answers in milliseconds). */
  timing?: AwsSideSettings['fleet']['timing'];
}

export interface AwsAuditDeps {
  store: AuditStore;
  clock: () => Date;
  toolVersion: string;
  analyze?: AnalyzeOptions;
  /** The report files to write besides report.json (default: all). */
  formats?: readonly ReportFormat[];
  /** Called once the cluster and the region are known, before the fleet is asked anything. */
  onReady?: (ready: { region: string }) => void;
  /** Called as VMs report in, for a progress display. */
  onProgress?: (event: { done: number; total: number }) => void;
}

export interface AwsAuditResult {
  result: RunAuditResult;
  /** What publishing SSM Compliance items gave, when it was on. */
  compliance?: PublishComplianceResult;
  /** Calls per service and operation, as the manifest records them. */
  apiCalls: Record<string, number>;
}

/** The SDK's chain found no region (no setting, no AWS_REGION, none in the profile). */
export class NoRegionError extends FleetAuditError {
  override name = 'NoRegionError';
}

/** An AWS call stopped the audit: no report is written; the evidence collected so far stays where `evidenceLocation` says. */
export class AuditStoppedError extends FleetAuditError {
  override name = 'AuditStoppedError';
  readonly call: AwsCallError;
  readonly evidenceLocation: string | undefined;

  constructor(call: AwsCallError, evidenceLocation: string | undefined) {
    super(`${call.service} ${call.message}`, { cause: call });
    this.call = call;
    this.evidenceLocation = evidenceLocation;
  }
}

/**
 * Audits the fleet through SSM Run Command and the cluster through its Kubernetes API, with the real SDK
 * clients, then publishes the findings as SSM Compliance items unless told not to. A kubeconfig that cannot be
 * used is a MeshSetupError, no region a NoRegionError, and an AWS call that stops the run an AuditStoppedError
 * (the partial evidence stays in the store, and no report is written).
 */
export async function auditThroughAws(settings: AwsAuditSettings, deps: AwsAuditDeps): Promise<AwsAuditResult> {
  const side = composeAwsSide(
    {
      ...(settings.region ? { region: settings.region } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      ...(settings.ssmEndpoint ? { ssmEndpoint: settings.ssmEndpoint } : {}),
      ...(settings.s3Endpoint ? { s3Endpoint: settings.s3Endpoint } : {}),
      fleet: {
        ...(settings.bucket ? { bucket: settings.bucket } : {}),
        documentName: settings.document,
        target: settings.target,
        ...(settings.timing ? { timing: settings.timing } : {}),
      },
      mesh: { kube: settings.kube, ...(settings.rootCaConfigMap ? { rootCaConfigMap: settings.rootCaConfigMap } : {}) },
    },
    { composeMeshReader },
  );
  const mesh = await side.mesh!();
  const runner = side.fleet(settings.runId);
  let region: string;
  try {
    region = await runner.region();
  } catch (error) {
    side.close();
    throw new NoRegionError('no AWS region', { cause: error });
  }
  deps.onReady?.({ region });
  // Kept as the run is opened, so that a run stopped by an AWS call can say where its evidence is.
  let location: string | undefined;
  const store: AuditStore = {
    openRun: async (runId) => {
      const run = await deps.store.openRun(runId);
      location = run.location;
      return run;
    },
  };
  try {
    const result = await runAudit(
      { fleet: runner, mesh, store, clock: deps.clock, apiCalls: side.callCounts },
      {
        runId: settings.runId,
        source: 'aws',
        toolVersion: deps.toolVersion,
        targets: { region, ...settings.targets },
        ...(deps.analyze ? { analyze: deps.analyze } : {}),
        ...(deps.formats ? { formats: deps.formats } : {}),
        ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
      },
    );
    const calls = side.callCounts();
    if (settings.ssmCompliance === false) return { result, apiCalls: calls };
    const publisher = composeReportingSide({
      region,
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      ...(settings.ssmEndpoint ? { ssmEndpoint: settings.ssmEndpoint } : {}),
    }).compliance();
    try {
      return { result, apiCalls: calls, compliance: await publishCompliance(publisher, result.report) };
    } finally {
      publisher.destroy();
    }
  } catch (error) {
    if (error instanceof AwsCallError) throw new AuditStoppedError(error, location);
    throw error;
  } finally {
    side.close();
  }
}
