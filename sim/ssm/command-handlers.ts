import { randomUUID } from 'node:crypto';
import type { SimVm } from '../fleet.ts';
import { API_STDERR_LIMIT, API_STDOUT_LIMIT, cutApiCopy, detailsOutput } from './agent-output.ts';
import { fingerprint, page, parseRequest, SsmApiError, validationError } from './protocol.ts';
import { GetCommandInvocationSchema, ListCommandInvocationsSchema, ListCommandsSchema, SendCommandSchema } from './request-schemas.ts';
import {
  AGENT_RAN,
  commandStatus,
  planInvocation,
  statusAt,
  vmTags,
  type SimCommand,
  type SimInvocationState,
  type SsmSimState,
  type StatusNow,
} from './state.ts';

/** The Run Command operations: SendCommand, ListCommands, ListCommandInvocations and GetCommandInvocation. */
export function ssmCommandHandlers(state: SsmSimState): Record<string, (body: unknown) => unknown> {
  const { fleet, options, region, account, delays, stepName, hiddenLookups, vmsById, commands, stats, timers, uploads, tampered } = state;

  return {
    SendCommand: sendCommand,
    ListCommands: listCommands,
    ListCommandInvocations: listCommandInvocations,
    GetCommandInvocation: getCommandInvocation,
  };

  function tagsOf(vm: SimVm): Array<{ Key: string; Value: string }> {
    return vmTags(fleet, vm);
  }

  function sendCommand(body: unknown): unknown {
    const request = parseRequest(SendCommandSchema, body);
    const hasIds = request.InstanceIds !== undefined && request.InstanceIds.length > 0;
    const hasTargets = request.Targets !== undefined && request.Targets.length > 0;
    if (hasIds === hasTargets) throw validationError('Specify either InstanceIds or Targets, not both and not neither.');
    if (options.documentName !== undefined && request.DocumentName !== options.documentName) {
      throw new SsmApiError('InvalidDocument', `Document ${request.DocumentName} does not exist in your account.`);
    }
    if (request.OutputS3KeyPrefix !== undefined && request.OutputS3BucketName === undefined) {
      throw new SsmApiError('InvalidOutputFolder', 'OutputS3KeyPrefix needs OutputS3BucketName.');
    }
    let targeted: SimVm[];
    if (hasIds) {
      const ids = request.InstanceIds!;
      if (new Set(ids).size !== ids.length)
        throw new SsmApiError('DuplicateInstanceId', "You can't specify a managed node ID in more than one association.");
      const unknown = ids.filter((id) => !vmsById.has(id));
      if (unknown.length > 0) {
        throw new SsmApiError(
          'InvalidInstanceId',
          `Instances [${unknown.map((id) => `[${id}]`).join(', ')}] not in a valid state for account ${account}`,
        );
      }
      targeted = ids.map((id) => vmsById.get(id)!);
    } else {
      targeted = fleet.vms;
      for (const target of request.Targets!) targeted = targeted.filter(targetFilter(target.Key, target.Values));
    }
    const now = Date.now();
    const commandId = randomUUID();
    const command: SimCommand = {
      commandId,
      requestedAt: now,
      documentName: request.DocumentName,
      documentVersion: request.DocumentVersion ?? '$DEFAULT',
      comment: request.Comment ?? '',
      parameters: request.Parameters ?? {},
      instanceIds: hasIds ? request.InstanceIds! : [],
      targets: hasTargets ? request.Targets! : [],
      timeoutSeconds: request.TimeoutSeconds ?? 3600,
      maxConcurrency: request.MaxConcurrency ?? '50',
      maxErrors: request.MaxErrors ?? '0',
      bucket: request.OutputS3BucketName ?? '',
      keyPrefix: request.OutputS3KeyPrefix ?? '',
      s3Region: request.OutputS3Region ?? region,
      invocations: targeted.map((vm) => planInvocation(state, vm, now)),
      lookups: 0,
    };
    commands.set(commandId, command);
    if (command.bucket !== '' && options.s3) for (const inv of command.invocations) scheduleUpload(command, inv, now);
    return { Command: wireCommand(command, now) };
  }

  function targetFilter(key: string, values: string[]): (vm: SimVm) => boolean {
    if (key === 'InstanceIds') return (vm) => values.includes(vm.instanceId);
    if (key === 'tag-key') return (vm) => tagsOf(vm).some((t) => values.includes(t.Key));
    if (key.startsWith('tag:')) {
      const tagKey = key.slice(4);
      return (vm) => tagsOf(vm).some((t) => t.Key === tagKey && values.includes(t.Value));
    }
    throw validationError(`the simulator does not resolve targets by ${key}`);
  }

  function scheduleUpload(command: SimCommand, inv: SimInvocationState, now: number): void {
    if (!AGENT_RAN.has(inv.outcome)) return;
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        const writer = options.s3!;
        // The agent uploads only the streams that have content.
        const puts: Array<Promise<void>> = [];
        const stdout = tampered.has(inv.instanceId) ? `forged by another node\n${inv.stdout}` : inv.stdout;
        if (stdout !== '') puts.push(writer.put(command.bucket, outputKey(command, inv.instanceId, 'stdout'), stdout));
        if (inv.stderr !== '') puts.push(writer.put(command.bucket, outputKey(command, inv.instanceId, 'stderr'), inv.stderr));
        const upload = Promise.all(puts).then(
          () => {
            stats.uploads += puts.length;
          },
          (err: unknown) => {
            stats.uploadErrors.push(`${command.commandId}/${inv.instanceId}: ${err instanceof Error ? err.message : String(err)}`);
          },
        );
        uploads.add(upload);
        void upload.finally(() => uploads.delete(upload));
      },
      Math.max(0, inv.endAt + delays.outputUploadLagMs - now),
    );
    timers.add(timer);
  }

  function outputKey(command: SimCommand, instanceId: string, stream: 'stdout' | 'stderr'): string {
    return [command.keyPrefix, command.commandId, instanceId, 'awsrunShellScript', stepName, stream]
      .flatMap((part) => part.split('/'))
      .filter((part) => part !== '')
      .join('/');
  }

  function outputUrl(command: SimCommand, instanceId: string, stream: 'stdout' | 'stderr'): string {
    if (command.bucket === '') return '';
    return `https://s3.${command.s3Region}.amazonaws.com/${command.bucket}/${outputKey(command, instanceId, stream)}`;
  }

  function wireCommand(command: SimCommand, t: number): Record<string, unknown> {
    const states = command.invocations.map((inv) => ({ inv, now: statusAt(inv, t) }));
    const completed = states.filter((s) => s.now.terminal);
    const errors = completed.filter((s) => ['Failed', 'ExecutionTimedOut'].includes(s.now.details));
    const deliveryTimedOut = completed.filter((s) => s.now.details === 'DeliveryTimedOut');
    const { status, details } = commandStatus(states.map((s) => s.now));
    return {
      CommandId: command.commandId,
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      Comment: command.comment,
      ExpiresAfter: (command.requestedAt + command.timeoutSeconds * 1000) / 1000,
      Parameters: command.parameters,
      InstanceIds: command.instanceIds,
      Targets: command.targets,
      RequestedDateTime: command.requestedAt / 1000,
      Status: status,
      StatusDetails: details,
      OutputS3Region: command.s3Region,
      OutputS3BucketName: command.bucket,
      OutputS3KeyPrefix: command.keyPrefix,
      MaxConcurrency: command.maxConcurrency,
      MaxErrors: command.maxErrors,
      TargetCount: command.invocations.length,
      CompletedCount: completed.length,
      ErrorCount: errors.length,
      DeliveryTimedOutCount: deliveryTimedOut.length,
      ServiceRole: '',
      NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
      TimeoutSeconds: command.timeoutSeconds,
    };
  }

  function listCommands(body: unknown): unknown {
    const request = parseRequest(ListCommandsSchema, body);
    if (request.CommandId !== undefined && request.CommandId.length !== 36) throw new SsmApiError('InvalidCommandId', undefined);
    const t = Date.now();
    let list = [...commands.values()].sort((a, b) => b.requestedAt - a.requestedAt);
    if (request.CommandId !== undefined) list = list.filter((c) => c.commandId === request.CommandId);
    if (request.InstanceId !== undefined) list = list.filter((c) => c.invocations.some((i) => i.instanceId === request.InstanceId));
    for (const filter of request.Filters ?? []) list = list.filter(commandFilter(filter.key, filter.value, t, 'ListCommands'));
    // Right after SendCommand a command may not be listed yet.
    list = list.filter((c) => t >= c.requestedAt + delays.invocationVisibleMs);
    const items = list.map((c) => wireCommand(c, t));
    return page(
      items,
      request.MaxResults ?? 50,
      request.NextToken,
      fingerprint('ListCommands', request.CommandId, request.InstanceId, request.Filters),
      'Commands',
    );
  }

  function commandFilter(key: string, value: string, t: number, op: string): (c: SimCommand) => boolean {
    if (key === 'InvokedAfter' || key === 'InvokedBefore') {
      const at = Date.parse(value);
      if (Number.isNaN(at)) throw new SsmApiError('InvalidFilterValue', `${value} is not a valid timestamp for ${key}`);
      return key === 'InvokedAfter' ? (c) => c.requestedAt >= at : (c) => c.requestedAt <= at;
    }
    if (key === 'DocumentName') return (c) => c.documentName === value;
    if (key === 'Status') return (c) => commandStatus(c.invocations.map((i) => statusAt(i, t))).status === value;
    if (key === 'ExecutionStage') {
      if (op !== 'ListCommands') throw new SsmApiError('InvalidFilterKey', 'ExecutionStage can only be used with ListCommands');
      if (value !== 'Executing' && value !== 'Complete')
        throw new SsmApiError('InvalidFilterValue', `${value} is not a valid ExecutionStage`);
      return (c) => c.invocations.every((i) => statusAt(i, t).terminal) === (value === 'Complete');
    }
    throw new SsmApiError('InvalidFilterKey', undefined);
  }

  function listCommandInvocations(body: unknown): unknown {
    const request = parseRequest(ListCommandInvocationsSchema, body);
    if (request.CommandId !== undefined && request.CommandId.length !== 36) throw new SsmApiError('InvalidCommandId', undefined);
    const t = Date.now();
    let list = [...commands.values()].sort((a, b) => b.requestedAt - a.requestedAt);
    if (request.CommandId !== undefined) list = list.filter((c) => c.commandId === request.CommandId);
    for (const filter of request.Filters ?? []) {
      if (filter.key === 'Status') continue;
      list = list.filter(commandFilter(filter.key, filter.value, t, 'ListCommandInvocations'));
    }
    const statusFilter = request.Filters?.find((f) => f.key === 'Status')?.value;
    const items: unknown[] = [];
    for (const command of list) {
      if (request.CommandId !== undefined && ++command.lookups <= hiddenLookups) continue;
      for (const inv of command.invocations) {
        if (t < inv.visibleAt) continue;
        if (request.InstanceId !== undefined && inv.instanceId !== request.InstanceId) continue;
        const now = statusAt(inv, t);
        if (statusFilter !== undefined && now.status !== statusFilter && now.details !== statusFilter) continue;
        items.push(wireInvocation(command, inv, now, request.Details ?? false));
      }
    }
    return page(
      items,
      request.MaxResults ?? 50,
      request.NextToken,
      fingerprint('ListCommandInvocations', request.CommandId, request.InstanceId, request.Filters, request.Details),
      'CommandInvocations',
    );
  }

  function wireInvocation(command: SimCommand, inv: SimInvocationState, now: StatusNow, details: boolean): Record<string, unknown> {
    const ran = now.terminal && AGENT_RAN.has(inv.outcome);
    const plugin = {
      Name: stepName === '0.awsrunShellScript' ? 'aws:runShellScript' : stepName,
      Status: now.status,
      StatusDetails: now.details,
      ResponseCode: now.terminal ? inv.responseCode : -1,
      ResponseStartDateTime:
        now.status !== 'Pending' && now.status !== 'Delayed' && AGENT_RAN.has(inv.outcome) ? inv.startAt / 1000 : undefined,
      ResponseFinishDateTime: ran ? inv.endAt / 1000 : undefined,
      Output: ran ? detailsOutput(inv.stdout, inv.stderr) : '',
      StandardOutputUrl: outputUrl(command, inv.instanceId, 'stdout'),
      StandardErrorUrl: outputUrl(command, inv.instanceId, 'stderr'),
      OutputS3Region: command.s3Region,
      OutputS3BucketName: command.bucket,
      OutputS3KeyPrefix: command.keyPrefix,
    };
    return {
      CommandId: command.commandId,
      InstanceId: inv.instanceId,
      InstanceName: inv.computerName,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      RequestedDateTime: command.requestedAt / 1000,
      Status: now.status,
      StatusDetails: now.details,
      TraceOutput: '',
      StandardOutputUrl: outputUrl(command, inv.instanceId, 'stdout'),
      StandardErrorUrl: outputUrl(command, inv.instanceId, 'stderr'),
      CommandPlugins: details ? [plugin] : [],
      ServiceRole: '',
      NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  function getCommandInvocation(body: unknown): unknown {
    const request = parseRequest(GetCommandInvocationSchema, body);
    if (request.CommandId.length !== 36) throw new SsmApiError('InvalidCommandId', undefined);
    const t = Date.now();
    const command = commands.get(request.CommandId);
    const hidden = command !== undefined && ++command.lookups <= hiddenLookups;
    const inv = command?.invocations.find((i) => i.instanceId === request.InstanceId);
    if (!command || !inv || hidden || t < inv.visibleAt) throw new SsmApiError('InvocationDoesNotExist', undefined);
    if (request.PluginName !== undefined && request.PluginName !== stepName && request.PluginName !== 'aws:runShellScript') {
      throw new SsmApiError('InvalidPluginName', undefined);
    }
    const now = statusAt(inv, t);
    const ran = now.terminal && AGENT_RAN.has(inv.outcome);
    const started = AGENT_RAN.has(inv.outcome) && t >= inv.startAt;
    return {
      CommandId: command.commandId,
      InstanceId: inv.instanceId,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      PluginName: stepName,
      ResponseCode: now.terminal ? inv.responseCode : -1,
      ExecutionStartDateTime: started ? new Date(inv.startAt).toISOString() : '',
      ExecutionElapsedTime: started ? `PT${((Math.min(t, inv.endAt) - inv.startAt) / 1000).toFixed(3)}S` : '',
      ExecutionEndDateTime: ran ? new Date(inv.endAt).toISOString() : '',
      Status: now.status,
      StatusDetails: now.details,
      StandardOutputContent: ran ? cutApiCopy(inv.stdout, API_STDOUT_LIMIT) : '',
      StandardOutputUrl: outputUrl(command, inv.instanceId, 'stdout'),
      StandardErrorContent: ran ? cutApiCopy(inv.stderr, API_STDERR_LIMIT) : '',
      StandardErrorUrl: outputUrl(command, inv.instanceId, 'stderr'),
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }
}
