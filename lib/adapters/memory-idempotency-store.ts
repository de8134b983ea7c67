import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, type IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';

/**
 * Powertools idempotency records kept in memory, for `fleet-audit serve` on one machine: the same rules as
 * the DynamoDB layer (a record can be taken over once it has expired, or when its request has been in
 * progress past its own expiry), applied in one step.
 */
export class MemoryIdempotencyStore extends BasePersistenceLayer {
  readonly #records = new Map<string, IdempotencyRecord>();

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const record = this.#records.get(idempotencyKey);
    if (!record) throw new IdempotencyItemNotFoundError();
    return record;
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const held = this.#records.get(record.idempotencyKey);
    const now = Date.now();
    const free =
      !held ||
      (held.expiryTimestamp !== undefined && held.expiryTimestamp < now / 1000) ||
      (held.getStatus() === IdempotencyRecordStatus.INPROGRESS &&
        held.inProgressExpiryTimestamp !== undefined &&
        held.inProgressExpiryTimestamp < now);
    if (!free) throw new IdempotencyItemAlreadyExistsError(`a request with idempotency key ${record.idempotencyKey} exists already`, held);
    this.#records.set(record.idempotencyKey, record);
  }

  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.#records.set(record.idempotencyKey, record);
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.#records.delete(record.idempotencyKey);
  }
}
