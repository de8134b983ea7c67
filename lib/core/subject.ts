import { z } from 'zod';

/** What a finding speaks of: a VM (instance id), a WorkloadEntry (`namespace/name`), a proxy (its proxy-status name), or the fleet. */
export const SubjectKindSchema = z.enum(['vm', 'workloadentry', 'proxy', 'fleet']);
export type SubjectKind = z.infer<typeof SubjectKindSchema>;
