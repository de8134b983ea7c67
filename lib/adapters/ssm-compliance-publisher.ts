import { PutComplianceItemsCommand, SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';
import { SSM_COMPLIANCE_TYPE, type SsmComplianceRecord } from '../core/ssm-compliance.ts';
import type { CompliancePublisher, PublishOutcome } from '../ports/compliance-publisher.ts';

/** PutComplianceItems calls in flight at once: SSM's rate for it is low, and the client retries throttling. */
const DEFAULT_CONCURRENCY = 4;

/** Publishes compliance items with PutComplianceItems, one call per VM holding all of its items (the call replaces the list). */
export class SsmCompliancePublisher implements CompliancePublisher {
  readonly #ssm: SSMClient;
  readonly #owned: boolean;
  readonly #concurrency: number;

  /** With a client of its own (made from `clientConfig`, retrying throttled calls with backoff) when none is given. */
  constructor(ssm: SSMClient | undefined, options: { concurrency?: number; clientConfig?: SSMClientConfig } = {}) {
    this.#owned = ssm === undefined;
    this.#ssm = ssm ?? new SSMClient({ retryMode: 'standard', maxAttempts: 8, ...options.clientConfig });
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  /** Closes the client's connections, when the publisher made it. */
  destroy(): void {
    if (this.#owned) this.#ssm.destroy();
  }

  async publish(records: readonly SsmComplianceRecord[]): Promise<PublishOutcome[]> {
    const outcomes: PublishOutcome[] = new Array<PublishOutcome>(records.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < records.length) {
        const index = next++;
        outcomes[index] = await this.#publishOne(records[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, records.length) }, worker));
    return outcomes;
  }

  async #publishOne(record: SsmComplianceRecord): Promise<PublishOutcome> {
    try {
      await this.#ssm.send(
        new PutComplianceItemsCommand({
          ResourceId: record.instanceId,
          ResourceType: 'ManagedInstance',
          ComplianceType: SSM_COMPLIANCE_TYPE,
          ExecutionSummary: { ExecutionTime: new Date(record.executionTime), ExecutionId: record.executionId, ExecutionType: 'Command' },
          Items: record.items,
          UploadType: 'COMPLETE',
        }),
      );
      return { instanceId: record.instanceId, ok: true };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      return { instanceId: record.instanceId, ok: false, error: `PutComplianceItems ${e.name ?? 'Error'}: ${e.message ?? String(error)}` };
    }
  }
}
