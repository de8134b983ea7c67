import { z } from 'zod';

/** The SSM requests the simulator answers, with the limits and messages of the AWS API. */

const INSTANCE_ID = /^(i-(\w{8}|\w{17})|mi-\w{17})$/;
const InstanceIdSchema = z
  .string()
  .regex(INSTANCE_ID, { error: 'Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)' });
const CommandIdSchema = z.string();
const NextTokenSchema = z.string().min(1).optional();

function maxResults(min: number, max: number) {
  return z
    .number()
    .int()
    .min(min, { error: `Member must have value greater than or equal to ${min}` })
    .max(max, { error: `Member must have value less than or equal to ${max}` })
    .optional();
}

const StringFilterSchema = z.object({
  Key: z.string().min(1),
  Values: z.array(z.string().min(1)).min(1).max(100, { error: 'Member must have length less than or equal to 100' }),
});

export const DescribeInstanceInformationSchema = z.object({
  InstanceInformationFilterList: z.array(z.unknown()).optional(),
  Filters: z.array(StringFilterSchema).optional(),
  MaxResults: maxResults(5, 50),
  NextToken: NextTokenSchema,
});

export const ListTagsForResourceSchema = z.object({
  ResourceType: z.string().min(1),
  ResourceId: z.string().min(1),
});

const TargetSchema = z.object({
  Key: z.string().min(1).max(163),
  Values: z.array(z.string()).min(1).max(50),
});

export const SendCommandSchema = z.object({
  InstanceIds: z.array(InstanceIdSchema).max(50, { error: 'Member must have length less than or equal to 50' }).optional(),
  Targets: z.array(TargetSchema).max(5, { error: 'Member must have length less than or equal to 5' }).optional(),
  DocumentName: z.string().min(1),
  DocumentVersion: z.string().optional(),
  TimeoutSeconds: z
    .number()
    .int()
    .min(30, { error: 'Member must have value greater than or equal to 30' })
    .max(2_592_000, { error: 'Member must have value less than or equal to 2592000' })
    .optional(),
  Comment: z.string().max(100, { error: 'Member must have length less than or equal to 100' }).optional(),
  Parameters: z.record(z.string(), z.array(z.string())).optional(),
  OutputS3Region: z.string().min(3).max(20).optional(),
  OutputS3BucketName: z.string().min(3).max(63).optional(),
  OutputS3KeyPrefix: z.string().max(500, { error: 'Member must have length less than or equal to 500' }).optional(),
  MaxConcurrency: z
    .string()
    .regex(/^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/, {
      error: 'Member must satisfy regular expression pattern: ^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$',
    })
    .optional(),
  MaxErrors: z
    .string()
    .regex(/^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/, {
      error: 'Member must satisfy regular expression pattern: ^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$',
    })
    .optional(),
  ServiceRoleArn: z.string().optional(),
});

const CommandFilterSchema = z.object({ key: z.string().min(1), value: z.string().min(1) });

export const ListCommandsSchema = z.object({
  CommandId: CommandIdSchema.optional(),
  InstanceId: InstanceIdSchema.optional(),
  MaxResults: maxResults(1, 50),
  NextToken: NextTokenSchema,
  Filters: z.array(CommandFilterSchema).min(1).max(5).optional(),
});

export const ListCommandInvocationsSchema = z.object({
  CommandId: CommandIdSchema.optional(),
  InstanceId: InstanceIdSchema.optional(),
  MaxResults: maxResults(1, 50),
  NextToken: NextTokenSchema,
  Filters: z.array(CommandFilterSchema).min(1).max(5).optional(),
  Details: z.boolean().optional(),
});

export const GetCommandInvocationSchema = z.object({
  CommandId: CommandIdSchema,
  InstanceId: InstanceIdSchema,
  PluginName: z.string().min(4).optional(),
});
