import { DescribeInstanceInformationCommand, ListTagsForResourceCommand, type InstanceInformationStringFilter } from '@aws-sdk/client-ssm';
import { InstanceInformationSchema, type InstanceInformation } from '../../core/evidence-bundle.ts';
import { chunks, isAwsError, jsonify, parseWith } from './aws-call.ts';
import { forEachBounded } from '../../shared/bounded-concurrency.ts';
import { PAGE_SIZE, type SsmContext } from './context.ts';
import { TagListSchema } from './schemas.ts';

const MAX_IDS_PER_FILTER = 50;

export interface ListedInventory {
  items: InstanceInformation[];
  /** Explicitly targeted ids that DescribeInstanceInformation does not list. */
  absentIds: string[];
}

/** The managed nodes of the target, from every page of DescribeInstanceInformation. */
export async function listInventory(ctx: SsmContext): Promise<ListedInventory> {
  const target = ctx.options.target;
  let items: InstanceInformation[];
  let absentIds: string[] = [];
  if (target.kind === 'tag') {
    const filter: InstanceInformationStringFilter = target.values
      ? { Key: `tag:${target.key}`, Values: target.values }
      : { Key: 'tag-key', Values: [target.key] };
    items = await describe(ctx, [filter], `target tag ${target.key}`);
    // The filter proves the tag; its value is known when the target names only one.
    if (target.values?.length === 1) for (const item of items) item.Tags = [{ Key: target.key, Value: target.values[0]! }];
  } else {
    const wanted = [...new Set(target.instanceIds)];
    items = [];
    for (const chunk of chunks(wanted, MAX_IDS_PER_FILTER)) items.push(...(await describeIds(ctx, chunk)));
    const found = new Set(items.map((i) => i.InstanceId));
    absentIds = wanted.filter((id) => !found.has(id));
  }
  if (ctx.options.listTags) await attachTags(ctx, items);
  return { items, absentIds };
}

async function describe(ctx: SsmContext, filters: InstanceInformationStringFilter[], context: string): Promise<InstanceInformation[]> {
  const items: InstanceInformation[] = [];
  let token: string | undefined;
  do {
    const page = await ctx.aws.call(
      'SSM',
      'DescribeInstanceInformation',
      () => ctx.ssm.send(new DescribeInstanceInformationCommand({ Filters: filters, MaxResults: PAGE_SIZE, NextToken: token })),
      context,
    );
    for (const raw of page.InstanceInformationList ?? [])
      items.push(parseWith(InstanceInformationSchema, jsonify(raw), 'DescribeInstanceInformation item'));
    token = page.NextToken;
  } while (token);
  return items;
}

async function describeIds(ctx: SsmContext, ids: string[]): Promise<InstanceInformation[]> {
  try {
    return await describe(ctx, [{ Key: 'InstanceIds', Values: ids }], `${ids.length} instance ids from ${ids[0]}`);
  } catch (err) {
    // One unknown id can fail the whole filter: ask per id to learn which ones SSM does not manage.
    if (!isAwsError(err, 'InvalidInstanceId')) throw err;
    if (ids.length === 1) return [];
    const items: InstanceInformation[] = [];
    for (const id of ids) items.push(...(await describeIds(ctx, [id])));
    return items;
  }
}

async function attachTags(ctx: SsmContext, items: InstanceInformation[]): Promise<void> {
  // SSM keeps tags of hybrid nodes only; EC2 instances keep theirs in EC2.
  const hybrid = items.filter((i) => i.InstanceId.startsWith('mi-'));
  await forEachBounded(hybrid, 4, async (item) => {
    try {
      const answer = await ctx.aws.call(
        'SSM',
        'ListTagsForResource',
        () => ctx.ssm.send(new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: item.InstanceId })),
        `instance ${item.InstanceId}`,
      );
      item.Tags = parseWith(TagListSchema, jsonify(answer.TagList ?? []), 'ListTagsForResource TagList');
    } catch (err) {
      if (!isAwsError(err, 'InvalidResourceId')) throw err;
    }
  });
}
