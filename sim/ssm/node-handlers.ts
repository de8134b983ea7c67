import type { SimVm } from '../fleet.ts';
import { simInstanceInformation } from '../cluster.ts';
import { PutComplianceItemsSchema } from '../ssm-compliance-items.ts';
import { hashString } from '../random.ts';
import { fingerprint, page, parseRequest, SsmApiError, validationError } from './protocol.ts';
import { DescribeInstanceInformationSchema, ListTagsForResourceSchema } from './request-schemas.ts';
import { vmTags, type SsmSimState } from './state.ts';

/** The operations on managed nodes: DescribeInstanceInformation, ListTagsForResource and PutComplianceItems. */
export function ssmNodeHandlers(state: SsmSimState): Record<string, (body: unknown) => unknown> {
  const { fleet, outcomes, vmsById, compliance } = state;

  return {
    DescribeInstanceInformation: describeInstanceInformation,
    ListTagsForResource: listTagsForResource,
    PutComplianceItems: putComplianceItems,
  };

  function putComplianceItems(body: unknown): unknown {
    const request = parseRequest(PutComplianceItemsSchema, body);
    if (request.ResourceType !== 'ManagedInstance')
      throw new SsmApiError('InvalidResourceType', `resource type ${request.ResourceType} is not supported`);
    if (!fleet.vms.some((vm) => vm.instanceId === request.ResourceId))
      throw new SsmApiError('InvalidResourceId', `${request.ResourceId} is not a managed node`);
    compliance.put(request);
    return {};
  }

  // ------------------------------------------------------------ inventory

  function describeInstanceInformation(body: unknown): unknown {
    const request = parseRequest(DescribeInstanceInformationSchema, body);
    if (request.InstanceInformationFilterList !== undefined && request.Filters !== undefined) {
      throw new SsmApiError('InvalidInstanceInformationFilterValue', 'InstanceInformationFilterList and Filters cannot be used together');
    }
    if (request.InstanceInformationFilterList !== undefined) {
      throw validationError('the simulator supports Filters only, not the legacy InstanceInformationFilterList');
    }
    let vms = fleet.vms;
    for (const filter of request.Filters ?? []) vms = vms.filter(instanceFilter(filter.Key, filter.Values));
    const items = vms.map(wireInstanceInformation);
    return page(
      items,
      request.MaxResults ?? 10,
      request.NextToken,
      fingerprint('DescribeInstanceInformation', request.Filters),
      'InstanceInformationList',
    );
  }

  function instanceFilter(key: string, values: string[]): (vm: SimVm) => boolean {
    if (key === 'InstanceIds') return (vm) => values.includes(vm.instanceId);
    if (key === 'tag-key') return (vm) => tagsOf(vm).some((t) => values.includes(t.Key));
    if (key.startsWith('tag:')) {
      const tagKey = key.slice(4);
      return (vm) => tagsOf(vm).some((t) => t.Key === tagKey && values.includes(t.Value));
    }
    if (key === 'PingStatus') return (vm) => values.includes(pingStatus(vm));
    if (key === 'ResourceType') {
      if (values.length !== 1)
        throw new SsmApiError('InvalidInstanceInformationFilterValue', 'ResourceType filter may contain only one value.');
      return (vm) => (vm.hybrid ? 'ManagedInstance' : 'EC2Instance') === values[0];
    }
    if (key === 'PlatformTypes' || key === 'PlatformType') return () => values.includes('Linux');
    throw new SsmApiError('InvalidFilterKey', `the filter key ${key} is not supported`);
  }

  function tagsOf(vm: SimVm): Array<{ Key: string; Value: string }> {
    return vmTags(fleet, vm);
  }

  function pingStatus(vm: SimVm): string {
    if (outcomes[vm.instanceId] === 'Undeliverable') return 'ConnectionLost';
    return simInstanceInformation(fleet, vm).PingStatus ?? 'Online';
  }

  function wireInstanceInformation(vm: SimVm): Record<string, unknown> {
    // DescribeInstanceInformation returns no tags (those come from ListTagsForResource) and dates as epoch seconds.
    const { Tags: _tags, LastPingDateTime: _lastPing, ...info } = simInstanceInformation(fleet, vm);
    const status = pingStatus(vm);
    const wire: Record<string, unknown> = {
      ...info,
      PingStatus: status,
      LastPingDateTime: (fleet.now.getTime() - (status === 'Online' ? 60_000 : 3 * 3600_000)) / 1000,
      SourceId: vm.instanceId,
      SourceType: vm.hybrid ? 'AWS::SSM::ManagedInstance' : 'AWS::EC2::Instance',
    };
    if (vm.hybrid) {
      wire.RegistrationDate = (fleet.now.getTime() - 90 * 86400_000) / 1000;
      wire.IamRole = 'fleet-audit-hybrid-node';
      wire.ActivationId = `${hashString(vm.namespace).toString(16).padStart(8, '0')}-0000-4000-8000-000000000001`;
    }
    return wire;
  }

  function listTagsForResource(body: unknown): unknown {
    const request = parseRequest(ListTagsForResourceSchema, body);
    if (request.ResourceType !== 'ManagedInstance') {
      throw new SsmApiError(
        'InvalidResourceType',
        `the simulator keeps tags of ManagedInstance resources only, not ${request.ResourceType}`,
      );
    }
    const vm = vmsById.get(request.ResourceId);
    // EC2 instances keep their tags in EC2; SSM only knows the tags of hybrid (mi-) nodes.
    if (!vm || !vm.hybrid)
      throw new SsmApiError('InvalidResourceId', 'The resource ID is not valid. Verify that you entered the correct ID and try again.');
    return { TagList: tagsOf(vm) };
  }
}
