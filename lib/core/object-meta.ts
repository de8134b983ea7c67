import { z } from 'zod';

/** The ObjectMeta fields the audit reads of every Kubernetes object of the cluster part (meta/v1 ObjectMeta). */
export const ObjectMetaSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().min(1),
  annotations: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
