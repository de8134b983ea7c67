import { z } from 'zod';

/** What the runner reads of SSM's answers; everything else passes through untouched. */

const PluginSchema = z.looseObject({
  Name: z.string().optional(),
  Status: z.string().optional(),
  StatusDetails: z.string().optional(),
  ResponseCode: z.number().int().optional(),
  ResponseStartDateTime: z.date().optional(),
  ResponseFinishDateTime: z.date().optional(),
  Output: z.string().optional(),
  StandardOutputUrl: z.string().optional(),
  StandardErrorUrl: z.string().optional(),
});

export const ListedInvocationSchema = z.looseObject({
  CommandId: z.string().min(1),
  InstanceId: z.string().min(1),
  DocumentName: z.string().optional(),
  Comment: z.string().optional(),
  Status: z.string().optional(),
  StatusDetails: z.string().optional(),
  StandardOutputUrl: z.string().optional(),
  StandardErrorUrl: z.string().optional(),
  CommandPlugins: z.array(PluginSchema).optional(),
});
export type ListedInvocation = z.infer<typeof ListedInvocationSchema>;

export const CommandInvocationDetailSchema = z.looseObject({
  CommandId: z.string().optional(),
  InstanceId: z.string().optional(),
  DocumentName: z.string().optional(),
  PluginName: z.string().optional(),
  ResponseCode: z.number().int().optional(),
  ExecutionStartDateTime: z.string().optional(),
  ExecutionEndDateTime: z.string().optional(),
  Status: z.string().optional(),
  StatusDetails: z.string().optional(),
  StandardOutputContent: z.string().optional(),
  StandardOutputUrl: z.string().optional(),
  StandardErrorContent: z.string().optional(),
  StandardErrorUrl: z.string().optional(),
});

export const ListedCommandSchema = z.looseObject({
  CommandId: z.string().min(1),
  Status: z.string().optional(),
  TargetCount: z.number().int().optional(),
  CompletedCount: z.number().int().optional(),
});
export type ListedCommand = z.infer<typeof ListedCommandSchema>;

export const SentCommandSchema = z.looseObject({
  CommandId: z.string().min(1),
  RequestedDateTime: z.date().optional(),
});

export const TagListSchema = z.array(z.object({ Key: z.string(), Value: z.string() }));
