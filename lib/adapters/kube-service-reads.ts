import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeList } from '../core/evidence-bundle.ts';
import { ISTIO_GROUP, ISTIO_VERSION, type KubeApiCalls } from './kube-api-calls.ts';
import type { Attempt } from './kube-mesh-read-problems.ts';

export interface ServiceReadScope {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  api: KubeApiCalls;
  calls: string[];
  attempt: Attempt;
  pageSize: number;
  /** The VM namespaces: every Service and ServiceEntry of each is read. */
  namespaces: readonly string[];
  istioNamespace: string;
  /** The istiod Services of every revision: the chart labels them `app=istiod` and `istio.io/rev`. */
  istiodLabelSelector: string;
  /** The east-west gateway's Service (samples/multicluster/gen-eastwest-gateway.sh labels it `istio=eastwestgateway`). */
  eastWestGatewayLabelSelector: string;
}

/**
 * Reads the Services REG-08 and CFG-02 need (those of each VM namespace, istiod's and the east-west gateway's)
 * and the ServiceEntries of each VM namespace, one namespaced list each so that the audit needs no
 * cluster-wide read of either. Each is merged into one List of the upstream shape (a v1 ServiceList, a
 * networking.istio.io/v1 ServiceEntryList), objects kept as the API returned them. A list that fails is a
 * problem naming its namespace; a part none of whose lists could be read is left out.
 */
export async function readServiceParts(scope: ServiceReadScope): Promise<{ services?: KubeList; serviceEntries?: KubeList }> {
  const { core, custom, api, calls, attempt, pageSize, istioNamespace } = scope;
  const listServices = (namespace: string, labelSelector?: string): Promise<KubeList | undefined> => {
    const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const call = `GET /api/v1/namespaces/${namespace}/services${query}`;
    return attempt('services', namespace, call, () =>
      api.listAll(call, calls, (page) =>
        core.listNamespacedService(
          { namespace, limit: pageSize, ...(labelSelector ? { labelSelector } : {}), ...page.params },
          page.options,
        ),
      ),
    );
  };
  const listServiceEntries = (namespace: string): Promise<KubeList | undefined> => {
    const call = `GET /apis/${ISTIO_GROUP}/${ISTIO_VERSION}/namespaces/${namespace}/serviceentries`;
    return attempt('serviceentries', namespace, call, () =>
      api.listAll(call, calls, (page) =>
        custom.listNamespacedCustomObject(
          { group: ISTIO_GROUP, version: ISTIO_VERSION, namespace, plural: 'serviceentries', limit: pageSize, ...page.params },
          page.options,
        ),
      ),
    );
  };
  // Sequential: a handful of small lists, and the calls are recorded in a stable order.
  const serviceLists: Array<KubeList | undefined> = [];
  for (const namespace of scope.namespaces) serviceLists.push(await listServices(namespace));
  // istiod's and the gateway's Services are in the list of every Service of the istio namespace, when it is a VM namespace too.
  if (!scope.namespaces.includes(istioNamespace)) {
    serviceLists.push(await listServices(istioNamespace, scope.istiodLabelSelector));
    serviceLists.push(await listServices(istioNamespace, scope.eastWestGatewayLabelSelector));
  }
  const entryLists: Array<KubeList | undefined> = [];
  for (const namespace of scope.namespaces) entryLists.push(await listServiceEntries(namespace));
  const services = merged(serviceLists, 'v1', 'ServiceList');
  const serviceEntries = merged(entryLists, `${ISTIO_GROUP}/${ISTIO_VERSION}`, 'ServiceEntryList', scope.namespaces.length === 0);
  return { ...(services ? { services } : {}), ...(serviceEntries ? { serviceEntries } : {}) };
}

/** One List of the lists that were read, each object once, in namespace/name order. Undefined when none was read, unless there was nothing to read. */
function merged(lists: Array<KubeList | undefined>, apiVersion: string, kind: string, nothingToRead = false): KubeList | undefined {
  const read = lists.filter((list): list is KubeList => list !== undefined);
  if (read.length === 0 && !nothingToRead) return undefined;
  const byKey = new Map<string, unknown>();
  for (const item of read.flatMap((list) => list.items)) {
    const meta = (item as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
    const key = typeof meta?.namespace === 'string' && typeof meta.name === 'string' ? `${meta.namespace}/${meta.name}` : undefined;
    byKey.set(key ?? `\u0000${byKey.size}`, item);
  }
  const items = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
  // Several lists merged have no one resourceVersion: the List's metadata is left empty.
  return { apiVersion, kind, metadata: {}, items };
}
