import type { Invocation } from '../core/evidence-bundle.ts';
import type { RecordWrite, RecordWriteOptions } from '../ports/run-registry.ts';

/**
 * The object access the evidence bundle and the report files are written and read through (S3AuditStore
 * provides it): named here, so that they depend on what they use rather than on the store that makes them.
 */
export interface S3ObjectAccess {
  /** Writes one object, encrypted; returns its URL. */
  put(key: string, body: string, contentType: string): Promise<string>;
  /** Writes one object from chunks of text made as it is sent; returns its URL. */
  putStreamed(key: string, chunks: Iterable<string>, contentType: string): Promise<string>;
  /** Stores an invocation record unless one as final or more is there. */
  putRecord(key: string, invocation: Invocation, options?: RecordWriteOptions): Promise<RecordWrite>;
  /** Reads one object of a bundle, at most `limit` bytes; undefined when there is none. */
  getForBundle(key: string, limit: number): Promise<string | undefined>;
  listKeys(prefix: string): Promise<string[]>;
  listObjects(prefix: string): Promise<Array<{ key: string; size: number | undefined }>>;
  url(key: string): string;
  readonly readConcurrency: number;
  readonly writeConcurrency: number;
}
