import type { ComplianceReport } from '../compliance/compliance-report.ts';
import { formatColumns, sanitizeForTerminal } from './text.ts';

/** The terminal view: the period, one line per control, the oldest open findings. */
export function renderComplianceSummary(c: ComplianceReport): string {
  if (c.runs.length === 0) return 'No stored run: run an audit first (fleet-audit run).\n';
  const percent = (share: number | null | undefined): string =>
    share === null || share === undefined ? '–' : `${(share * 100).toFixed(1)}%`;
  const controls = formatColumns([
    ['CONTROL', 'SEVERITY', 'FIRST', 'LAST', 'TREND', 'TITLE'],
    ...c.controls.map((k) => [
      k.control,
      k.severity,
      percent(k.days[0]?.compliantShare),
      percent(k.days.at(-1)?.compliantShare),
      k.trend,
      k.title,
    ]),
  ]);
  const open = c.openFindings.slice(0, 10);
  const lines = [
    `Compliance from ${c.from} to ${c.to}: ${c.runs.length} run${c.runs.length === 1 ? '' : 's'}`,
    `${c.openFindings.length} open finding${c.openFindings.length === 1 ? '' : 's'}, ${c.fixedFindings.length} fixed, mean time to fix ${c.meanHoursToFix === null ? '–' : `${c.meanHoursToFix.toFixed(1)} h`}`,
    '',
    controls,
  ];
  if (open.length > 0) {
    lines.push(
      '',
      'Oldest open findings:',
      formatColumns([
        ['CONTROL', 'SEVERITY', 'SUBJECT', 'STATUS', 'AGE (DAYS)'],
        ...open.map((f) => [
          f.control,
          f.severity,
          `${f.subject.kind} ${sanitizeForTerminal(f.subject.id)}`,
          f.status,
          f.ageDays.toFixed(1),
        ]),
      ]),
    );
    if (c.openFindings.length > open.length)
      lines.push(`… and ${c.openFindings.length - open.length} more (--format html or -o json lists them all)`);
  }
  return `${lines.join('\n')}\n`;
}
