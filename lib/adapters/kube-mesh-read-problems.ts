import { z } from 'zod';
import { messageOf } from '../shared/error-code.ts';

/** The parts of the cluster evidence, named as in the bundle's cluster/ directory. */
export const MESH_PARTS = ['workloadentries', 'workloadgroups', 'istiod-pods', 'syncz', 'root-ca', 'services', 'serviceentries'] as const;
export type MeshPart = (typeof MESH_PARTS)[number];

/** Runs one read, recording a ReadFailure as a problem of `part` (about `target`) and answering undefined. */
export type Attempt = <T>(part: MeshPart, target: string | undefined, call: string, run: () => Promise<T>) => Promise<T | undefined>;

export const MESH_READ_PROBLEM_KINDS = [
  'unauthorized',
  'forbidden',
  'not-found',
  'timeout',
  'network',
  'http-error',
  'port-forward-refused',
  'invalid-response',
  'too-large',
  'too-many-pages',
] as const;

/** One thing the reader could not read; the part (or the replica's syncz) is left out of the evidence. */
export const MeshReadProblemSchema = z.object({
  part: z.enum(MESH_PARTS),
  /** The istiod pod for `syncz`, the namespace for `root-ca`, `services` and `serviceentries`. */
  target: z.string().optional(),
  /** What was asked, e.g. `GET /apis/networking.istio.io/v1/workloadentries` or `portforward istio-system/istiod-x:15014 GET /debug/syncz`. */
  call: z.string(),
  kind: z.enum(MESH_READ_PROBLEM_KINDS),
  /** HTTP status of the failed call, when there was one. */
  status: z.number().int().optional(),
  message: z.string(),
});
export type MeshReadProblem = z.infer<typeof MeshReadProblemSchema>;

/** A failure that becomes a MeshReadProblem; anything else thrown is a bug. */
export class ReadFailure extends Error {
  readonly kind: MeshReadProblem['kind'];
  readonly status: number | undefined;

  constructor(kind: MeshReadProblem['kind'], message: string, status?: number) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

const StatusObjectSchema = z.looseObject({ kind: z.literal('Status'), message: z.string().optional(), reason: z.string().optional() });

export function classifyApiError(call: string, error: unknown, seen: { status?: number; text?: string }, timeoutMs: number): ReadFailure {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new ReadFailure('timeout', `${call}: no answer within ${timeoutMs} ms`);
  const status = seen.status ?? (error as { code?: unknown } | null)?.code;
  if (typeof status === 'number' && status >= 300) {
    let detail: string;
    try {
      detail = StatusObjectSchema.parse(JSON.parse(seen.text ?? '')).message ?? '';
    } catch {
      detail = (seen.text ?? '').slice(0, 300);
    }
    const kind = status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not-found' : 'http-error';
    return new ReadFailure(kind, `${call} answered ${status}${detail ? `: ${detail}` : ''}`, status);
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const message = [messageOf(error), typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '']
    .filter(Boolean)
    .join(': ');
  return new ReadFailure('network', `${call} failed: ${message}`);
}

export function classifyUpgradeError(where: string, error: unknown): ReadFailure {
  // The WebSocket client rejects with an ErrorEvent whose message carries the HTTP status of a refused upgrade.
  const message = String(
    (error as { message?: unknown } | null)?.message ?? (error as { error?: { message?: unknown } } | null)?.error?.message ?? error,
  );
  const status = Number(/Unexpected server response: (\d{3})/.exec(message)?.[1]);
  if (status === 401) return new ReadFailure('unauthorized', `${where}: the port-forward was refused with 401`, status);
  if (status === 403)
    return new ReadFailure(
      'forbidden',
      `${where}: the port-forward was refused with 403 (RBAC must allow get and create on pods/portforward in this namespace)`,
      status,
    );
  if (status === 404) return new ReadFailure('not-found', `${where}: the pod is gone (404)`, status);
  if (Number.isInteger(status))
    return new ReadFailure('port-forward-refused', `${where}: the port-forward upgrade was refused with ${status}`, status);
  if (/timed out|timeout/i.test(message)) return new ReadFailure('timeout', `${where}: the port-forward handshake timed out`);
  return new ReadFailure('network', `${where}: the port-forward failed: ${message}`);
}
