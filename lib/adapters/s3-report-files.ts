import { GetObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ReportFileName, ReportFiles } from '../ports/report-files.ts';
import { isRunId } from './bundle-layout.ts';

/** How long a link to a report stays valid: long enough to follow a redirect, short enough not to be shared. */
const LINK_SECONDS = 300;

/** Report files in the evidence bucket (`<prefix>runs/<runId>/report.*`), with presigned links for the large ones. */
export class S3ReportFiles implements ReportFiles {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: { client?: S3Client; clientConfig?: S3ClientConfig; bucket: string; prefix?: string }) {
    this.#s3 = options.client ?? new S3Client({ retryMode: 'adaptive', maxAttempts: 5, ...options.clientConfig });
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ?? '';
  }

  async size(runId: string, name: ReportFileName): Promise<number | undefined> {
    try {
      const head = await this.#s3.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(runId, name) }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async read(runId: string, name: ReportFileName): Promise<string | undefined> {
    try {
      const answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(runId, name) }));
      return (await answer.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async link(runId: string, name: ReportFileName): Promise<string> {
    return getSignedUrl(this.#s3, new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(runId, name) }), { expiresIn: LINK_SECONDS });
  }

  #key(runId: string, name: ReportFileName): string {
    if (!isRunId(runId)) throw new Error(`run id ${JSON.stringify(runId)} is not a safe S3 key segment`);
    return `${this.#prefix}runs/${runId}/${name}`;
  }
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return (
    name === 'NoSuchKey' || name === 'NotFound' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
  );
}
