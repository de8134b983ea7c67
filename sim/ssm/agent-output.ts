/** How the SSM agent cuts the copies of a command's output that the API returns (the S3 copy is whole). */

/** The agent's limits on the API copies of the output. */
export const API_STDOUT_LIMIT = 24_000;
export const API_STDERR_LIMIT = 8_000;
export const DETAILS_OUTPUT_LIMIT = 2_500;
/** What the agent appends to an API copy it cut. */
export const API_TRUNCATION_SUFFIX = '--output truncated--';

/** Cuts an API copy of a stream the way the agent does: to `limit` bytes, ending with the marker. */
export function cutApiCopy(text: string, limit: number, suffix = API_TRUNCATION_SUFFIX): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length < limit) return text;
  return bytes.subarray(0, limit - Buffer.byteLength(suffix)).toString('utf8') + suffix;
}

const ERROR_SEPARATOR = '\n----------ERROR-------\n';
const OUTPUT_CUT = '\n---Output truncated---';
const ERROR_CUT = '\n---Error truncated----';

/** The plugin's `Output` in ListCommandInvocations details: stdout and stderr together, cut at 2,500 characters. */
export function detailsOutput(stdout: string, stderr: string, capacity = DETAILS_OUTPUT_LIMIT): string {
  const whole = stderr === '' ? stdout : `${stdout}${ERROR_SEPARATOR}${stderr}`;
  if (whole.length <= capacity) return whole;
  if (stderr === '') return stdout.slice(0, capacity - OUTPUT_CUT.length) + OUTPUT_CUT;
  const room = capacity - ERROR_SEPARATOR.length;
  const half = Math.floor(room / 2);
  const out = stdout.length <= half - OUTPUT_CUT.length ? stdout : stdout.slice(0, half - OUTPUT_CUT.length) + OUTPUT_CUT;
  const errRoom = room - out.length;
  const err = stderr.length <= errRoom ? stderr : stderr.slice(0, errRoom - ERROR_CUT.length) + ERROR_CUT;
  return `${out}${ERROR_SEPARATOR}${err}`;
}
