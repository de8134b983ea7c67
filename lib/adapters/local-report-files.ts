import { lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ReportFileName, ReportFiles } from '../ports/report-files.ts';
import { isRunId } from './bundle-layout.ts';
import { readRegularFile } from './regular-file.ts';

/** The most a report file served from the local store may hold. */
const REPORT_FILE_LIMIT = 512 * 1024 * 1024;

/** Report files of a local store (`<root>/<runId>/report.*`); there is no link to give, so every body is sent. */
export class LocalReportFiles implements ReportFiles {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async size(runId: string, name: ReportFileName): Promise<number | undefined> {
    const stat = await lstat(this.#path(runId, name)).catch(() => undefined);
    return stat?.isFile() ? stat.size : undefined;
  }

  async read(runId: string, name: ReportFileName): Promise<string | undefined> {
    return readRegularFile(this.#path(runId, name), REPORT_FILE_LIMIT);
  }

  async link(): Promise<string | undefined> {
    return undefined;
  }

  #path(runId: string, name: ReportFileName): string {
    if (!isRunId(runId)) throw new Error(`run id ${JSON.stringify(runId)} is not a safe directory name`);
    return join(this.root, runId, name);
  }
}
