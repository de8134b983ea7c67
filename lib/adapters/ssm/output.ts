import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import type { Invocation } from '../../core/evidence-bundle.ts';
import { MAX_VM_OUTPUT_BYTES, MAX_VM_STDERR_BYTES } from '../../core/evidence-limits.ts';
import { z } from 'zod';
import { isAwsError, jsonify, parseWith } from './aws-call.ts';
import type { SsmContext } from './context.ts';
import { detailsPrefixes, splitDetailsOutput } from './details-output.ts';
import { CommandInvocationDetailSchema, type ListedInvocation } from './schemas.ts';

/** Details of invocations the agent never started, so there is no output to read. */
const NEVER_RAN_DETAILS: ReadonlySet<string> = new Set([
  'Undeliverable',
  'DeliveryTimedOut',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
]);
/** The longest wait between two reads of an output object that is not there yet. */
const MAX_OUTPUT_RETRY_DELAY_MS = 5_000;

type Stream = 'stdout' | 'stderr';
/** One output object as read: its text, too large to hold, or never there. */
type OutputRead = { kind: 'text'; text: string } | { kind: 'too-large'; problem: string } | { kind: 'missing' };

/** The GetCommandInvocation-shaped record of a terminal invocation, with its complete stdout. */
export async function recordOf(ctx: SsmContext, listed: ListedInvocation): Promise<Invocation> {
  const plugin = listed.CommandPlugins?.[0];
  const context = `command ${listed.CommandId}, instance ${listed.InstanceId}`;
  const stdoutUrl = plugin?.StandardOutputUrl || listed.StandardOutputUrl || undefined;
  const stderrUrl = plugin?.StandardErrorUrl || listed.StandardErrorUrl || undefined;
  const base: Invocation = {
    InstanceId: listed.InstanceId,
    CommandId: listed.CommandId,
    DocumentName: listed.DocumentName,
    PluginName: plugin?.Name,
    Status: listed.Status ?? 'Failed',
    StatusDetails: listed.StatusDetails,
    ResponseCode: plugin?.ResponseCode ?? -1,
    ExecutionStartDateTime: plugin?.ResponseStartDateTime?.toISOString(),
    ExecutionEndDateTime: plugin?.ResponseFinishDateTime?.toISOString(),
    StandardOutputUrl: stdoutUrl,
    StandardErrorUrl: stderrUrl,
    StandardOutputContent: '',
    StandardErrorContent: '',
  };
  const detail = listed.StatusDetails ?? listed.Status ?? '';
  if (NEVER_RAN_DETAILS.has(detail)) return base;
  if (ctx.options.bucket === undefined) {
    // Without a bucket the API copy is all there is: cut at 24,000 bytes with the agent's marker, kept as is.
    return (await getInvocation(ctx, listed, context)) ?? base;
  }
  if (detail === 'Cancelled' && plugin?.ResponseStartDateTime === undefined) return base;
  // Without the plugin's Output nothing is known inline: both streams come from S3, unchecked.
  const inline =
    plugin?.Output === undefined
      ? { stdout: '', stdoutComplete: false, stderr: '', stderrComplete: false }
      : splitDetailsOutput(plugin.Output);
  const vouched = plugin?.Output === undefined ? { stdout: undefined, stderr: undefined } : detailsPrefixes(plugin.Output);
  const endedAt = plugin?.ResponseFinishDateTime?.getTime();
  const problems: string[] = [];

  let stdout: string | undefined;
  if (inline.stdoutComplete) stdout = inline.stdout;
  else {
    const read = await readOutput(ctx, listed, 'stdout', stdoutUrl, MAX_VM_OUTPUT_BYTES, endedAt, context);
    if (read.kind === 'too-large') problems.push(read.problem);
    else if (read.kind === 'text' && vouched.stdout !== undefined && !read.text.startsWith(vouched.stdout))
      problems.push(tampered('stdout', stdoutUrl, vouched.stdout.length));
    else if (read.kind === 'text') stdout = read.text;
    else {
      // No object after the wait (the upload failed or is very late): the API copy, cut at 24,000 bytes.
      const api = await getInvocation(ctx, listed, context);
      stdout = api?.StandardOutputContent ?? inline.stdout;
    }
  }
  let stderr = inline.stderr;
  if (!inline.stderrComplete) {
    const read = await readOutput(ctx, listed, 'stderr', stderrUrl, MAX_VM_STDERR_BYTES, endedAt, context);
    if (read.kind === 'too-large') {
      problems.push(read.problem);
      stderr = '';
    } else if (read.kind === 'text' && vouched.stderr !== undefined && !read.text.startsWith(vouched.stderr)) {
      problems.push(tampered('stderr', stderrUrl, vouched.stderr.length));
    } else if (read.kind === 'text') stderr = read.text;
  }
  return {
    ...base,
    StandardOutputContent: problems.length > 0 ? '' : (stdout ?? ''),
    StandardErrorContent: stderr,
    ...(problems.length > 0 ? { FleetAuditCollectionError: problems.join('; ') } : {}),
  };
}

function tampered(stream: Stream, url: string | undefined, vouchedChars: number): string {
  return `the ${stream} object in S3${url ? ` (${url})` : ''} does not start with the ${vouchedChars} characters SSM returned for this invocation: the output may have been tampered with, so none of it is used`;
}

async function getInvocation(ctx: SsmContext, listed: ListedInvocation, context: string): Promise<Invocation | undefined> {
  const retry = ctx.options.outputRetry ?? {};
  const attempts = retry.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await ctx.aws.call(
        'SSM',
        'GetCommandInvocation',
        () => ctx.ssm.send(new GetCommandInvocationCommand({ CommandId: listed.CommandId, InstanceId: listed.InstanceId })),
        context,
      );
      const got = parseWith(CommandInvocationDetailSchema, jsonify(answer), 'GetCommandInvocation');
      return {
        InstanceId: listed.InstanceId,
        CommandId: listed.CommandId,
        DocumentName: got.DocumentName ?? listed.DocumentName,
        PluginName: got.PluginName || undefined,
        Status: got.Status ?? listed.Status ?? 'Failed',
        StatusDetails: got.StatusDetails ?? listed.StatusDetails,
        ResponseCode: got.ResponseCode ?? -1,
        ExecutionStartDateTime: got.ExecutionStartDateTime || undefined,
        ExecutionEndDateTime: got.ExecutionEndDateTime || undefined,
        StandardOutputUrl: got.StandardOutputUrl || undefined,
        StandardErrorUrl: got.StandardErrorUrl || undefined,
        StandardOutputContent: got.StandardOutputContent ?? '',
        StandardErrorContent: got.StandardErrorContent ?? '',
      };
    } catch (err) {
      // Right after an invocation is listed, GetCommandInvocation may not know it yet.
      if (!isAwsError(err, 'InvocationDoesNotExist')) throw err;
      if (attempt >= attempts) return undefined;
      await ctx.sleep(ctx.aws.jitter((retry.initialDelayMs ?? 500) * 2 ** (attempt - 1)));
    }
  }
}

/**
 * Reads one output stream from S3, at most `limit` bytes. The agent uploads shortly after the invocation
 * ends, so NoSuchKey is retried with backoff until `outputWaitMs` after that end (or after now, if the end
 * is not known or lies ahead of this clock).
 */
async function readOutput(
  ctx: SsmContext,
  listed: ListedInvocation,
  stream: Stream,
  url: string | undefined,
  limit: number,
  endedAt: number | undefined,
  context: string,
): Promise<OutputRead> {
  const retry = ctx.options.outputRetry ?? {};
  const firstLook = ctx.now();
  const deadline = Math.min(endedAt ?? firstLook, firstLook) + (ctx.options.outputWaitMs ?? 60_000);
  let delay = retry.initialDelayMs ?? 500;
  let location = url ? parseS3Url(url) : undefined;
  for (let attempt = 1; ; attempt++) {
    location ??= await findOutput(ctx, listed, stream, context);
    if (location) {
      try {
        return await getObjectBounded(ctx, location, stream, limit, context);
      } catch (err) {
        if (!isAwsError(err, 'NoSuchKey')) throw err;
      }
    }
    const now = ctx.now();
    if ((retry.attempts !== undefined && attempt >= retry.attempts) || now >= deadline) return { kind: 'missing' };
    await ctx.sleep(Math.min(ctx.aws.jitter(delay), deadline - now));
    delay = Math.min(delay * 2, MAX_OUTPUT_RETRY_DELAY_MS);
  }
}

/** GetObject that checks ContentLength first and stops reading the body past `limit` bytes. */
async function getObjectBounded(
  ctx: SsmContext,
  { bucket, key }: { bucket: string; key: string },
  stream: Stream,
  limit: number,
  context: string,
): Promise<OutputRead> {
  const where = `s3://${bucket}/${key}`;
  const answer = await ctx.aws.call(
    'S3',
    'GetObject',
    () => ctx.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    `${where}, ${context}`,
  );
  const body: unknown = answer.Body;
  const tooLarge = (size: string): OutputRead => {
    (body as { destroy?: () => void } | undefined)?.destroy?.();
    return {
      kind: 'too-large',
      problem: `the ${stream} object ${where} is ${size} bytes, over the collector's limit of ${limit.toLocaleString('en-US')} bytes for one VM's ${stream}`,
    };
  };
  if (answer.ContentLength !== undefined && answer.ContentLength > limit) return tooLarge(answer.ContentLength.toLocaleString('en-US'));
  if (body === undefined || body === null) return { kind: 'text', text: '' };
  if (typeof body === 'object' && Symbol.asyncIterator in body) {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      size += buffer.length;
      // A body longer than it said, or one without a length: stop at the limit.
      if (size > limit) return tooLarge(`more than ${limit.toLocaleString('en-US')}`);
      parts.push(buffer);
    }
    return { kind: 'text', text: Buffer.concat(parts).toString('utf8') };
  }
  const text = parseWith(
    z.string(),
    await (body as { transformToString(encoding: string): Promise<unknown> }).transformToString('utf-8'),
    where,
  );
  const size = Buffer.byteLength(text);
  return size > limit ? tooLarge(size.toLocaleString('en-US')) : { kind: 'text', text };
}

/** Finds an output object under the command's prefix when the API gave no URL. */
async function findOutput(
  ctx: SsmContext,
  listed: ListedInvocation,
  stream: Stream,
  context: string,
): Promise<{ bucket: string; key: string } | undefined> {
  const bucket = ctx.options.bucket!;
  const prefix =
    [ctx.options.keyPrefix ?? '', listed.CommandId, listed.InstanceId, '']
      .flatMap((p) => p.split('/'))
      .filter((p) => p !== '')
      .join('/') + '/';
  const answer = await ctx.aws.call(
    'S3',
    'ListObjectsV2',
    () => ctx.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 100 })),
    `s3://${bucket}/${prefix}, ${context}`,
  );
  const key = (answer.Contents ?? []).map((c) => c.Key ?? '').find((k) => k.endsWith(`/${stream}`));
  return key ? { bucket, key } : undefined;
}

/** Bucket and key of an S3 object URL as SSM reports it (path-style or virtual-hosted). */
export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const path = parsed.pathname.replace(/^\//, '');
  const virtualHosted = /^(?<bucket>.+)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?:\.cn)?$/.exec(parsed.hostname);
  if (virtualHosted?.groups && !/^s3[.-]/.test(parsed.hostname)) {
    return path === '' ? undefined : { bucket: virtualHosted.groups.bucket!, key: decodeURIComponent(path) };
  }
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) return undefined;
  return { bucket: decodeURIComponent(path.slice(0, slash)), key: decodeURIComponent(path.slice(slash + 1)) };
}
