/**
 * How kube-apiserver reads a request: the RequestInfo it derives from the path, and the discovery documents
 * that clients fetch before anything else.
 */

export const NETWORKING_GROUP = 'networking.istio.io';
export const ISTIO_VERSION = 'v1';

export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string | undefined;
  name: string | undefined;
}

/** The RequestInfo kube-apiserver derives from a path (k8s.io/apiserver/pkg/endpoints/request). */
export function requestAttributes(method: string, path: string, query: URLSearchParams): RequestAttributes | undefined {
  const parts = path.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', name, subresource = ''] = rest;
  let verb: string;
  if (method === 'GET' || method === 'HEAD') verb = name === undefined ? (query.get('watch') === 'true' ? 'watch' : 'list') : 'get';
  else if (method === 'POST') verb = 'create';
  else if (method === 'PUT') verb = 'update';
  else if (method === 'PATCH') verb = 'patch';
  else if (method === 'DELETE') verb = name === undefined ? 'deletecollection' : 'delete';
  else verb = method.toLowerCase();
  return { verb, group, resource, subresource, namespace, name };
}

export const DISCOVERY: Record<string, unknown> = {
  '/api': {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
  },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: NETWORKING_GROUP,
        versions: [{ groupVersion: `${NETWORKING_GROUP}/v1`, version: 'v1' }],
        preferredVersion: { groupVersion: `${NETWORKING_GROUP}/v1`, version: 'v1' },
      },
    ],
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      {
        name: 'configmaps',
        singularName: 'configmap',
        namespaced: true,
        kind: 'ConfigMap',
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        shortNames: ['cm'],
      },
      {
        name: 'pods',
        singularName: 'pod',
        namespaced: true,
        kind: 'Pod',
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        shortNames: ['po'],
      },
      { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      {
        name: 'services',
        singularName: 'service',
        namespaced: true,
        kind: 'Service',
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        shortNames: ['svc'],
      },
      {
        name: 'pods/proxy',
        singularName: '',
        namespaced: true,
        kind: 'PodProxyOptions',
        verbs: ['create', 'delete', 'get', 'patch', 'update'],
      },
    ],
  },
  [`/apis/${NETWORKING_GROUP}/v1`]: {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${NETWORKING_GROUP}/v1`,
    resources: [
      {
        name: 'workloadentries',
        singularName: 'workloadentry',
        namespaced: true,
        kind: 'WorkloadEntry',
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        shortNames: ['we'],
      },
      {
        name: 'workloadgroups',
        singularName: 'workloadgroup',
        namespaced: true,
        kind: 'WorkloadGroup',
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        shortNames: ['wg'],
      },
      {
        name: 'serviceentries',
        singularName: 'serviceentry',
        namespaced: true,
        kind: 'ServiceEntry',
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        shortNames: ['se'],
      },
    ],
  },
  '/version': { major: '1', minor: '35', gitVersion: 'v1.35.0', platform: 'linux/amd64' },
};
