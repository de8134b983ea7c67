import { z } from 'zod';

/**
 * The evidence bundle (docs/design.md): raw upstream responses, stored before any parsing.
 * Shapes follow the upstream APIs (SSM, Kubernetes, istiod) so a user can assemble a bundle by hand
 * with `aws ssm` and `kubectl`. Unknown fields are kept but ignored.
 */
export const BUNDLE_VERSION = 1;

export const BundleSourceSchema = z.enum(['sim', 'aws', 'replay']);
export type BundleSource = z.infer<typeof BundleSourceSchema>;

const IsoTimeSchema = z.iso.datetime({ offset: true });

export const ManifestSchema = z.looseObject({
  bundleVersion: z.literal(BUNDLE_VERSION, { error: `bundleVersion must be ${BUNDLE_VERSION}` }),
  runId: z.string().min(1),
  startedAt: IsoTimeSchema,
  finishedAt: IsoTimeSchema.optional(),
  source: BundleSourceSchema,
  targets: z.unknown().optional(),
  toolVersion: z.string().optional(),
  /** Why the run read no cluster on purpose (none is configured): the controls that need it are then SKIP, not ERROR. */
  clusterNotRead: z.string().min(1).optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** One item of SSM DescribeInstanceInformation, optionally with the node's tags. */
export const InstanceInformationSchema = z.looseObject({
  InstanceId: z.string().min(1),
  PingStatus: z.string().optional(),
  LastPingDateTime: z.union([z.string(), z.number()]).optional(),
  PlatformType: z.string().optional(),
  PlatformName: z.string().optional(),
  PlatformVersion: z.string().optional(),
  AgentVersion: z.string().optional(),
  ComputerName: z.string().optional(),
  IPAddress: z.string().optional(),
  ResourceType: z.string().optional(),
  Tags: z.array(z.object({ Key: z.string(), Value: z.string() })).optional(),
});
export type InstanceInformation = z.infer<typeof InstanceInformationSchema>;

export const InventorySchema = z.looseObject({
  InstanceInformationList: z.array(InstanceInformationSchema),
});
export type Inventory = z.infer<typeof InventorySchema>;

/** One SSM GetCommandInvocation-shaped object; StandardOutputContent is the complete stdout. */
export const InvocationSchema = z.looseObject({
  InstanceId: z.string().min(1),
  Status: z.string(),
  StatusDetails: z.string().optional(),
  ResponseCode: z.number().int().optional(),
  StandardOutputContent: z.string().optional(),
  StandardErrorContent: z.string().optional(),
  ExecutionStartDateTime: z.string().optional(),
  ExecutionEndDateTime: z.string().optional(),
  /** A problem the collector had with this VM's output (too large, not what SSM returned): COLLECT-01 is ERROR with it. */
  FleetAuditCollectionError: z.string().optional(),
  /** Set on a record the audit made itself because SSM gave none (see lib/core/invocation-records.ts): why. */
  FleetAuditPlaceholder: z.string().optional(),
});
export type Invocation = z.infer<typeof InvocationSchema>;

/**
 * A Kubernetes List. Items stay `unknown` here: a malformed object must become an ERROR finding about
 * that object, not a rejected bundle, so each item is validated on its own (see mesh-view.ts).
 */
export const KubeListSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  items: z.array(z.unknown()),
});
export type KubeList = z.infer<typeof KubeListSchema>;

/** istiod's /debug/syncz answer: a JSON array of per-proxy sync states (items validated later). */
export const SynczSchema = z.array(z.unknown());

/** A ConfigMap such as istio-ca-root-cert. */
export const ConfigMapSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
  data: z.record(z.string(), z.string()).optional(),
});
export type ConfigMap = z.infer<typeof ConfigMapSchema>;

/** A read of the cluster that failed: the part (or one replica's syncz) is then absent from the bundle. */
export const ClusterReadProblemSchema = z.looseObject({
  part: z.enum(['workloadentries', 'workloadgroups', 'istiod-pods', 'syncz', 'root-ca', 'services', 'serviceentries']),
  target: z.string().optional(),
  call: z.string(),
  kind: z.string(),
  status: z.number().int().optional(),
  message: z.string(),
});
export type ClusterReadProblem = z.infer<typeof ClusterReadProblemSchema>;
export const ClusterReadProblemsSchema = z.array(ClusterReadProblemSchema);

/** The cluster half of a bundle; absent when the mesh could not be read at all. */
export interface ClusterEvidence {
  workloadEntries?: KubeList;
  workloadGroups?: KubeList;
  istiodPods?: KubeList;
  /** A v1 ServiceList: the Services of the VM namespaces, istiod's and the east-west gateway's. */
  services?: KubeList;
  /** A networking.istio.io/v1 ServiceEntryList of the VM namespaces. */
  serviceEntries?: KubeList;
  /** istiod pod name → its /debug/syncz array. A pod with no entry did not answer. */
  syncz: Record<string, unknown[]>;
  /** namespace → the istio-ca-root-cert ConfigMap. */
  rootCa: Record<string, ConfigMap>;
  /** Calls that failed (`cluster/problems.json`); the part or replica they were for is absent. */
  problems?: ClusterReadProblem[];
}

/** A whole evidence bundle, validated at the edge by the store that read it. */
export interface EvidenceBundle {
  manifest: Manifest;
  inventory: Inventory;
  invocations: Record<string, Invocation>;
  cluster?: ClusterEvidence;
}
