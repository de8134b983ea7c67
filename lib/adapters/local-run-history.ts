import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { digestReport, DIGEST_FILE, RunDigestSchema, type RunDigest } from '../core/compliance/run-digest.ts';
import { ReportSchema } from '../core/report.ts';
import { RunHistoryError, type RunHistory } from '../ports/run-history.ts';
import { isRunId } from './bundle-layout.ts';
import { issueMessageOf, schemaPathOf } from './content-free-errors.ts';
import { readRegularFile, RegularFileError } from './regular-file.ts';

/** The most a stored digest or report may hold before it is refused unread. */
const DIGEST_LIMIT = 64 * 1024 * 1024;
const REPORT_LIMIT = 512 * 1024 * 1024;

/** The runs of a local audit store (`<root>/<runId>/digest.json`, else `report.json`). */
export class LocalRunHistory implements RunHistory {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async listRuns(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return [];
      throw new RunHistoryError(`${this.root}: cannot be read (${code ?? String(cause)})`);
    }
    return entries.filter((e) => e.isDirectory() && isRunId(e.name)).map((e) => e.name);
  }

  async readDigest(runId: string): Promise<RunDigest | undefined> {
    if (!isRunId(runId)) throw new RunHistoryError(`run id ${JSON.stringify(runId)} is not a safe directory name`);
    const digestPath = join(this.root, runId, DIGEST_FILE);
    const digest = await readStoredText(digestPath, DIGEST_LIMIT);
    if (digest !== undefined) return parseStored(digestPath, digest, RunDigestSchema);
    const reportPath = join(this.root, runId, 'report.json');
    const report = await readStoredText(reportPath, REPORT_LIMIT);
    return report === undefined ? undefined : digestReport(parseStored(reportPath, report, ReportSchema));
  }
}

async function readStoredText(path: string, limit: number): Promise<string | undefined> {
  try {
    return await readRegularFile(path, limit);
  } catch (error) {
    if (error instanceof RegularFileError) throw new RunHistoryError(error.message);
    throw error;
  }
}

/** Parses a stored JSON file against its schema; the message names the file, never its content. */
export function parseStored<T>(path: string, text: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new RunHistoryError(`${path}: is not valid JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // The file's own keys (a record's) and zod's list of unknown keys are content: content-free-errors.ts words the path and the issue.
    throw new RunHistoryError(`${path}: ${issue ? `${schemaPathOf(schema, issue.path)}: ${issueMessageOf(issue)}` : 'invalid'}`);
  }
  return parsed.data;
}
