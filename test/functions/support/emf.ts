import { vi } from 'vitest';

/** One CloudWatch embedded-metric-format record, as Powertools writes it to standard output. */
export interface EmfRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
  };
  [field: string]: unknown;
}

/** Captures the EMF records written to standard output until `stop`; other output passes through. */
export function captureEmf(): { records: EmfRecord[]; stop(): void } {
  const records: EmfRecord[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line.startsWith('{"_aws"')) continue;
      records.push(JSON.parse(line) as EmfRecord);
    }
    if (text.startsWith('{"_aws"')) return true;
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  });
  return { records, stop: () => spy.mockRestore() };
}

/** The names of the metrics a record declares, with their units. */
export function declared(record: EmfRecord): Record<string, string> {
  return Object.fromEntries(record._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => [m.Name, m.Unit])));
}
