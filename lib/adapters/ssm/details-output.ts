/**
 * The plugin `Output` of ListCommandInvocations with Details: the first 2,500 characters the agent kept of
 * stdout, then its ERROR separator and the start of stderr, each part ending with the agent's marker when
 * cut (amazon-ssm-agent, agent/contracts: TruncateOutput). It is SSM's own copy, so it also vouches for
 * the start of the outputs read from S3.
 */

const DETAILS_ERROR_SEPARATOR = '\n----------ERROR-------\n';
const DETAILS_OUTPUT_CUT = '---Output truncated---';
const DETAILS_ERROR_CUT = '---Error truncated----';
const DETAILS_OUTPUT_LIMIT = 2_500;

/**
 * Splits the plugin Output of ListCommandInvocations details (stdout, then the agent's ERROR separator and
 * stderr, cut at 2,500 characters) and says which part is known complete without reading S3.
 */
export function splitDetailsOutput(output: string): { stdout: string; stdoutComplete: boolean; stderr: string; stderrComplete: boolean } {
  const at = output.indexOf(DETAILS_ERROR_SEPARATOR);
  // The separator twice means stdout itself printed it: the split cannot be trusted.
  const ambiguous = at >= 0 && at !== output.lastIndexOf(DETAILS_ERROR_SEPARATOR);
  const stdout = at < 0 ? output : output.slice(0, at);
  const stderr = at < 0 ? '' : output.slice(at + DETAILS_ERROR_SEPARATOR.length);
  // Near the limit a copy may be cut in a way we do not recognise, so only a clearly short one is trusted.
  const short = output.length < DETAILS_OUTPUT_LIMIT - 100;
  return {
    stdout,
    stdoutComplete: !ambiguous && (stdout === '' || (short && !stdout.endsWith(DETAILS_OUTPUT_CUT))),
    stderr,
    stderrComplete: !ambiguous && (stderr === '' || (short && !stderr.endsWith(DETAILS_ERROR_CUT))),
  };
}

/**
 * What each complete stream must start with, by SSM's copy: the text before the cut marker. The text
 * before the first separator always starts stdout, even when stdout printed the separator itself; the
 * stderr part is only known when the separator appears once. A character the cut may have split is left out.
 */
export function detailsPrefixes(output: string): { stdout: string; stderr: string | undefined } {
  const at = output.indexOf(DETAILS_ERROR_SEPARATOR);
  const ambiguous = at >= 0 && at !== output.lastIndexOf(DETAILS_ERROR_SEPARATOR);
  const stdout = at < 0 ? output : output.slice(0, at);
  const stderr = at < 0 ? '' : output.slice(at + DETAILS_ERROR_SEPARATOR.length);
  return { stdout: beforeCut(stdout, DETAILS_OUTPUT_CUT), stderr: ambiguous ? undefined : beforeCut(stderr, DETAILS_ERROR_CUT) };
}

function beforeCut(part: string, marker: string): string {
  let text = part.endsWith(marker) ? part.slice(0, -marker.length) : part;
  // The marker follows a newline the agent adds; a shorter prefix is still a prefix.
  if (text.endsWith('\n')) text = text.slice(0, -1);
  while (text.endsWith('\uFFFD')) text = text.slice(0, -1);
  return text;
}
