import type { RunDigest } from '../core/compliance/run-digest.ts';
import { BadInputError } from '../shared/errors.ts';

/** The stored runs, as compliance over time reads them: by id, each reduced to its digest. */
export interface RunHistory {
  /** The ids of the stored runs, in no particular order. */
  listRuns(): Promise<string[]>;
  /**
   * The run's digest: the one stored with it, else one derived from its report.json; undefined when the run
   * has neither yet (it is still running). Throws RunHistoryError when what is stored cannot be read.
   */
  readDigest(runId: string): Promise<RunDigest | undefined>;
}

/** A stored run could not be read as a digest or a report; the message names the file and the problem. */
export class RunHistoryError extends BadInputError {
  override name = 'RunHistoryError';
}
