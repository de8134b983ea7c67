import { z } from 'zod';

/**
 * The simulated SSM's PutComplianceItems (SSM API reference): the request's shape and limits as the service
 * checks them, and each resource's list of items, replaced whole by every call as the service does.
 */
const ItemSchema = z.strictObject({
  Id: z.string().max(100).optional(),
  Title: z.string().max(500).optional(),
  Severity: z.enum(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNSPECIFIED']),
  Status: z.enum(['COMPLIANT', 'NON_COMPLIANT']),
  Details: z.record(z.string().min(1).max(64), z.string().max(4096)).optional(),
});

export const PutComplianceItemsSchema = z.strictObject({
  ResourceId: z.string().min(1).max(100),
  ResourceType: z.string().min(1).max(50),
  ComplianceType: z
    .string()
    .max(100)
    .regex(/^[A-Za-z0-9_-]\w+$|^Custom:[a-zA-Z0-9_-]\w+$/),
  ExecutionSummary: z.strictObject({
    ExecutionTime: z.union([z.number(), z.string()]),
    ExecutionId: z.string().max(100).optional(),
    ExecutionType: z.string().max(50).optional(),
  }),
  Items: z.array(ItemSchema).max(10_000),
  ItemContentHash: z.string().max(256).optional(),
  UploadType: z.enum(['COMPLETE', 'PARTIAL']).optional(),
});
export type PutComplianceItemsRequest = z.infer<typeof PutComplianceItemsSchema>;

/** What the simulated service holds: resource id → compliance type → the last list put. */
export class SimComplianceStore {
  readonly #byResource = new Map<string, Map<string, PutComplianceItemsRequest>>();

  put(request: PutComplianceItemsRequest): void {
    const types = this.#byResource.get(request.ResourceId) ?? new Map<string, PutComplianceItemsRequest>();
    types.set(request.ComplianceType, structuredClone(request));
    this.#byResource.set(request.ResourceId, types);
  }

  /** The items of a resource for one compliance type, as last put. */
  items(resourceId: string, complianceType: string): PutComplianceItemsRequest | undefined {
    return this.#byResource.get(resourceId)?.get(complianceType);
  }

  get resources(): string[] {
    return [...this.#byResource.keys()];
  }
}
