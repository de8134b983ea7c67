import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Waiver } from '../core/waivers.ts';
import { parseWaiversText, WAIVERS_TEXT_LIMIT } from '../core/waivers-text.ts';
import type { WaiversSource } from '../ports/waivers-source.ts';
import { errorCode, messageOf } from '../shared/error-code.ts';
import { S3CallError } from '../shared/errors.ts';
import { WaiversError } from '../core/waivers.ts';

/**
 * The deployment's waivers as one S3 object (YAML or JSON, the format `fleet-audit run --waivers` reads).
 * An SSM parameter would hold only 4 to 8 KB, a few dozen waivers; an object holds thousands and keeps its
 * history when the bucket is versioned. A configured object that is missing stops the run: an audit that
 * silently applied no waivers would report accepted risks as failures, or the reverse after a typo.
 */
export class S3WaiversSource implements WaiversSource {
  readonly #s3: S3Client;
  readonly #owned: boolean;
  readonly #bucket: string;
  readonly #key: string;

  constructor(options: { bucket: string; key: string; client?: S3Client; clientConfig?: S3ClientConfig }) {
    this.#owned = options.client === undefined;
    this.#s3 = options.client ?? new S3Client({ ...options.clientConfig });
    this.#bucket = options.bucket;
    this.#key = options.key;
  }

  destroy(): void {
    if (this.#owned) this.#s3.destroy();
  }

  async read(now: Date): Promise<Waiver[]> {
    const where = `s3://${this.#bucket}/${this.#key}`;
    let text: string;
    try {
      const answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key }));
      if ((answer.ContentLength ?? 0) > WAIVERS_TEXT_LIMIT) throw new WaiversError(`${where}: holds more than ${WAIVERS_TEXT_LIMIT} bytes`);
      text = (await answer.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (error instanceof WaiversError) throw error;
      if (errorCode(error) === 'NoSuchKey')
        throw new WaiversError(`${where}: the waivers object does not exist (the stage's waiversKey names it)`, { cause: error });
      throw new S3CallError('GetObject', errorCode(error), messageOf(error), where, error);
    }
    return parseWaiversText(where, text, now);
  }
}
