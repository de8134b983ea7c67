import { EventBridgeClient, PutEventsCommand, type EventBridgeClientConfig, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { AuditEventsError, type AuditEvent, type AuditEvents } from '../ports/audit-events.ts';

/** The `source` of every event the audit puts (docs/deployment.md, "Events"); never `aws.`-prefixed. */
export const EVENT_SOURCE = 'fleet-audit';

/** The `detail-type` of each kind of event, as rules match them. */
export const DETAIL_TYPE = {
  'run-finished': 'Fleet audit run finished',
  regression: 'Fleet audit regression',
} as const satisfies Record<AuditEvent['kind'], string>;

/** PutEvents takes at most 10 entries a call. */
const ENTRIES_PER_CALL = 10;

/**
 * AuditEvents on an EventBridge bus (the account's default bus unless told otherwise): one entry per event,
 * its detail the event without its kind, which the detail-type says.
 */
export class EventBridgeAuditEvents implements AuditEvents {
  readonly #client: EventBridgeClient;
  readonly #busName: string;

  constructor(options: { client?: EventBridgeClient; clientConfig?: EventBridgeClientConfig; busName?: string }) {
    this.#client = options.client ?? new EventBridgeClient({ retryMode: 'adaptive', maxAttempts: 5, ...options.clientConfig });
    this.#busName = options.busName ?? 'default';
  }

  async publish(events: readonly AuditEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += ENTRIES_PER_CALL) {
      const batch = events.slice(start, start + ENTRIES_PER_CALL);
      const answer = await this.#client.send(new PutEventsCommand({ Entries: batch.map((event) => this.#entry(event)) }));
      if ((answer.FailedEntryCount ?? 0) === 0) continue;
      // Entries are answered in order: name each refused one by its kind and run.
      const refused = (answer.Entries ?? []).flatMap((result, i) =>
        result.ErrorCode
          ? [
              `${DETAIL_TYPE[batch[i]!.kind]} of run ${batch[i]!.runId}: ${result.ErrorCode}${result.ErrorMessage ? ` (${result.ErrorMessage})` : ''}`,
            ]
          : [],
      );
      throw new AuditEventsError(
        `EventBridge did not accept ${answer.FailedEntryCount} event(s): ${refused.join('; ') || 'no reason given'}`,
      );
    }
  }

  #entry(event: AuditEvent): PutEventsRequestEntry {
    const { kind, ...detail } = event;
    return { EventBusName: this.#busName, Source: EVENT_SOURCE, DetailType: DETAIL_TYPE[kind], Detail: JSON.stringify(detail) };
  }
}
