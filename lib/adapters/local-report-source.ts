import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ReportSchema, type Report } from '../core/report.ts';
import type { EvidenceReader } from '../ports/audit-store.ts';
import type { ReportSource } from '../ports/report-source.ts';
import { BundleError } from './bundle-layout.ts';
import { LocalBundle } from './local-audit-store.ts';
import { parseStored } from './local-run-history.ts';
import { readRegularFile, RegularFileError } from './regular-file.ts';

const REPORT_LIMIT = 512 * 1024 * 1024;

/**
 * A run directory (`<store>/<run id>`, with report.json and evidence/) or an evidence bundle directory, as
 * `fleet-audit show` takes either.
 */
export class LocalReportSource implements ReportSource {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async storedReport(): Promise<Report | undefined> {
    const path = join(this.dir, 'report.json');
    try {
      const text = await readRegularFile(path, REPORT_LIMIT);
      return text === undefined ? undefined : parseStored(path, text, ReportSchema);
    } catch (error) {
      if (error instanceof RegularFileError || (error as Error).name === 'RunHistoryError') throw new BundleError((error as Error).message);
      throw error;
    }
  }

  bundle(): EvidenceReader | undefined {
    if (existsSync(join(this.dir, 'manifest.json'))) return new LocalBundle(this.dir);
    if (existsSync(join(this.dir, 'evidence', 'manifest.json'))) return new LocalBundle(join(this.dir, 'evidence'));
    return undefined;
  }
}
