import type { z } from 'zod';

/**
 * How every boundary words a schema's complaint: `path: message`, the path in dots (`(root)` for the value
 * itself). zod's own messages name what was expected, never the value received, so the text is safe to show
 * for input that may hold secrets or hostile text.
 */
export function issueText(issue: z.core.$ZodIssue): string {
  return `${issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.')}: ${issue.message}`;
}

/** The first complaint of a failed parse (the one a person fixes first). */
export function firstIssueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? issueText(issue) : 'invalid';
}

/** The first `max` complaints of a failed parse, joined by `; `. */
export function issuesText(error: z.ZodError, max = Infinity): string {
  return error.issues.slice(0, max).map(issueText).join('; ');
}
