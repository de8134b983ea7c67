import { Observable, type ConfigurationOptions, type ObservableMiddleware } from '@kubernetes/client-node';
import { z } from 'zod';
import { KubeListSchema, type KubeList } from '../core/evidence-bundle.ts';
import { classifyApiError, ReadFailure } from './kube-mesh-read-problems.ts';
import { firstIssueText } from '../shared/zod-issues.ts';

/** The API group and version of Istio's networking resources (WorkloadEntry, WorkloadGroup, ServiceEntry). */
export const ISTIO_GROUP = 'networking.istio.io';
export const ISTIO_VERSION = 'v1';

const ListPageSchema = KubeListSchema.extend({
  metadata: z
    .looseObject({ continue: z.string().optional(), remainingItemCount: z.number().optional(), resourceVersion: z.string().optional() })
    .optional(),
});

export interface KubeApiCallOptions {
  /** Per API call. */
  requestTimeoutMs: number;
  /** Items per list page. */
  pageSize: number;
  /** Stop a list after this many pages (the part is then left out). */
  maxPages: number;
}

/**
 * The two ways the mesh reader calls the Kubernetes API through @kubernetes/client-node: one call whose
 * body is kept exactly as sent, and a paginated list merged into one List. A failure is a ReadFailure.
 */
export class KubeApiCalls {
  readonly #opts: KubeApiCallOptions;

  constructor(options: KubeApiCallOptions) {
    this.#opts = options;
  }

  /** Follows `continue` until the list is complete; returns one List with every page's items. */
  async listAll(
    call: string,
    calls: string[],
    fetchPage: (page: { params: { _continue?: string }; options: ConfigurationOptions }) => Promise<unknown>,
  ): Promise<KubeList> {
    // A 410 means the continue token outlived the snapshot; Kubernetes says to start the list over.
    for (let restart = 0; restart < 2; restart++) {
      let merged: KubeList | undefined;
      let token: string | undefined;
      let pages = 0;
      try {
        do {
          if (++pages > this.#opts.maxPages)
            throw new ReadFailure('too-many-pages', `${call} still had more after ${this.#opts.maxPages} pages of ${this.#opts.pageSize}`);
          const pageCall = `${call}${call.includes('?') ? '&' : '?'}limit=${this.#opts.pageSize}${token ? '&continue=…' : ''}`;
          calls.push(pageCall);
          const json = await this.call(pageCall, (options) => fetchPage({ params: token ? { _continue: token } : {}, options }));
          const page = ListPageSchema.safeParse(json);
          if (!page.success)
            throw new ReadFailure('invalid-response', `${call} did not return a Kubernetes List: ${firstIssueText(page.error)}`);
          const next = page.data.metadata?.continue || undefined;
          if (next !== undefined && next === token)
            throw new ReadFailure('invalid-response', `${call} returned the same continue token twice`);
          token = next;
          if (!merged) {
            const { continue: _c, remainingItemCount: _r, ...metadata } = page.data.metadata ?? {};
            merged = { ...page.data, metadata, items: [...page.data.items] };
          } else merged.items.push(...page.data.items);
        } while (token !== undefined);
        return merged!;
      } catch (error) {
        if (!(error instanceof ReadFailure && error.status === 410 && restart === 0)) throw error;
      }
    }
    throw new ReadFailure('http-error', `${call}: the list expired twice while paging`, 410);
  }

  /** One API call through the generated client, returning the response body exactly as sent. */
  async call(call: string, invoke: (options: ConfigurationOptions) => Promise<unknown>): Promise<unknown> {
    const seen: { status?: number; text?: string } = {};
    const timeoutMs = this.#opts.requestTimeoutMs;
    // The object-parameter API takes the observable form of middleware for per-call options.
    const capture: ObservableMiddleware = {
      pre: (context) => {
        context.setSignal(AbortSignal.timeout(timeoutMs));
        return new Observable(Promise.resolve(context));
      },
      post: (context) =>
        new Observable(
          (async () => {
            const text = await context.body.text();
            seen.status = context.httpStatusCode;
            seen.text = text;
            // The generated client deserializes into model classes (Dates, dropped unknown fields); keep the raw text instead.
            context.body = { text: async () => text, binary: async () => Buffer.from(text), stream: () => null };
            return context;
          })(),
        ),
    };
    try {
      await invoke({ middleware: [capture], middlewareMergeStrategy: 'append' });
    } catch (error) {
      throw classifyApiError(call, error, seen, timeoutMs);
    }
    try {
      return JSON.parse(seen.text ?? '');
    } catch {
      throw new ReadFailure('invalid-response', `${call} answered ${seen.status ?? '?'} with a body that is not JSON`, seen.status);
    }
  }
}
