import type { Control } from '../controls/control.ts';
import { formatColumns } from './text.ts';

/** The catalogue as `fleet-audit controls` prints it. */
export function renderControlsTable(controls: readonly Control[]): string {
  return `${formatColumns([['ID', 'SEVERITY', 'SUBJECT', 'TITLE'], ...controls.map((c) => [c.id, c.severity, c.subject, c.title])])}\n`;
}

/** The catalogue as JSON: what each control checks and how to fix a failure. */
export function controlsJson(controls: readonly Control[]): Array<Pick<Control, 'id' | 'severity' | 'subject' | 'title' | 'remediation'>> {
  return controls.map(({ id, severity, subject, title, remediation }) => ({ id, severity, subject, title, remediation }));
}
