import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { digestReport, DIGEST_FILE, RunDigestSchema, type RunDigest } from '../core/compliance/run-digest.ts';
import { ReportSchema } from '../core/report.ts';
import { RunHistoryError, type RunHistory } from '../ports/run-history.ts';
import { isRunId } from './bundle-layout.ts';
import { parseStored } from './local-run-history.ts';

const DIGEST_LIMIT = 64 * 1024 * 1024;
const REPORT_LIMIT = 512 * 1024 * 1024;

/** The runs of the evidence bucket (`<prefix>runs/<runId>/digest.json`, else `report.json`), for compliance over time. */
export class S3RunHistory implements RunHistory {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: { client?: S3Client; clientConfig?: S3ClientConfig; bucket: string; prefix?: string }) {
    this.#s3 = options.client ?? new S3Client({ retryMode: 'adaptive', maxAttempts: 5, ...options.clientConfig });
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ?? '';
  }

  async listRuns(): Promise<string[]> {
    const base = `${this.#prefix}runs/`;
    const runs: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#s3.send(
        new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: base, Delimiter: '/', ContinuationToken: token }),
      );
      for (const p of page.CommonPrefixes ?? []) {
        const id = p.Prefix?.slice(base.length, -1);
        if (id !== undefined && isRunId(id)) runs.push(id);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return runs;
  }

  async readDigest(runId: string): Promise<RunDigest | undefined> {
    const base = `${this.#prefix}runs/${runId}/`;
    const digest = await this.#read(`${base}${DIGEST_FILE}`, DIGEST_LIMIT);
    if (digest !== undefined) return parseStored(this.#url(`${base}${DIGEST_FILE}`), digest, RunDigestSchema);
    const report = await this.#read(`${base}report.json`, REPORT_LIMIT);
    return report === undefined ? undefined : digestReport(parseStored(this.#url(`${base}report.json`), report, ReportSchema));
  }

  async #read(key: string, limit: number): Promise<string | undefined> {
    try {
      const answer = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      if ((answer.ContentLength ?? 0) > limit)
        throw new RunHistoryError(`${this.#url(key)}: holds ${answer.ContentLength} bytes, more than the ${limit} it may`);
      return (await answer.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      if (error instanceof RunHistoryError) throw error;
      throw new RunHistoryError(`${this.#url(key)}: cannot be read (${(error as { name?: string }).name ?? 'Error'})`);
    }
  }

  #url(key: string): string {
    return `s3://${this.#bucket}/${key}`;
  }
}
