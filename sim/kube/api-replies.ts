import type { SimFaultKind } from '../fault-plan.ts';
import type { RequestAttributes } from './routing.ts';

/** The Status objects kube-apiserver answers errors with. */

export interface ApiReply {
  status: number;
  body: unknown;
}

export function statusObject(code: number, reason: string, message: string, details?: Record<string, unknown>): ApiReply {
  return {
    status: code,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code },
  };
}

export function forbidden(user: string, a: RequestAttributes): ApiReply {
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return statusObject(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`,
    {
      ...(a.name ? { name: a.name } : {}),
      ...(a.group ? { group: a.group } : {}),
      kind: a.resource,
    },
  );
}

export function notFound(a: RequestAttributes): ApiReply {
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  return statusObject(404, 'NotFound', a.name ? `${qualified} "${a.name}" not found` : 'the server could not find the requested resource', {
    ...(a.name ? { name: a.name } : {}),
    ...(a.group ? { group: a.group } : {}),
    kind: a.resource,
  });
}

export const UNAUTHORIZED = statusObject(401, 'Unauthorized', 'Unauthorized');

/** kube-apiserver's answers to a request it throttles (max-in-flight) or fails. */
export function burstReply(kind: Exclude<SimFaultKind, 'timeout'>): ApiReply {
  return kind === 'throttle'
    ? statusObject(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', {
        causes: [{ reason: 'TooManyRequests' }],
        retryAfterSeconds: 1,
      })
    : statusObject(500, 'InternalError', 'Internal error occurred: the simulated API server failed this request');
}
