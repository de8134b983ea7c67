import type { ComplianceReport } from '../compliance/compliance-report.ts';
import { cspHashSource } from './csp-hash.ts';
import { escapeHtml as h } from './text.ts';

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
.meta{color:#57606a}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d8dee4;vertical-align:middle}
th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.improving{color:#116329}.worsening{color:#a40e26}.steady{color:#424a53}
svg{display:block}
@media print{body{margin:0}a{color:inherit}}
`;

// The one inline style is allowed by its hash, so injected markup could not bring a style of its own.
const CSP = `default-src 'none'; style-src ${cspHashSource(STYLE)}; base-uri 'none'; form-action 'none'`;

/**
 * Compliance over time as one self-contained page: per control the compliant share day by day as an
 * inline SVG line, then the open findings, the fixes and the waivers. No script, nothing loaded.
 */
export function renderComplianceHtml(c: ComplianceReport): string {
  const runs = c.runs.length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>Istio VM fleet compliance ${h(c.from?.slice(0, 10) ?? '')} – ${h(c.to?.slice(0, 10) ?? '')}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Istio VM fleet compliance</h1>
<p class="meta">${runs === 0 ? 'No stored run.' : `${runs} ${plural(runs, 'run')} from ${h(c.from!)} to ${h(c.to!)}; mean time to fix: ${c.meanHoursToFix === null ? 'no fix in the period' : `${c.meanHoursToFix.toFixed(1)} hours`}.`}</p>
<table>
<caption>Controls: compliant share per day</caption>
<thead><tr><th scope="col">Control</th><th scope="col">Severity</th><th scope="col">Title</th><th scope="col">Trend</th><th scope="col">Last share</th><th scope="col">Per day</th></tr></thead>
<tbody>
${c.controls.map(controlRow).join('\n')}
</tbody>
</table>
<h2>Open findings (${c.openFindings.length})</h2>
${
  c.openFindings.length === 0
    ? '<p>None.</p>'
    : `<table>
<caption>Findings failing in the newest run, oldest first</caption>
<thead><tr><th scope="col">Control</th><th scope="col">Severity</th><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">First seen</th><th scope="col">Age (days)</th></tr></thead>
<tbody>
${c.openFindings.map((f) => `<tr><td>${h(f.control)}</td><td>${h(f.severity)}</td><td>${h(f.subject.kind)} ${h(f.subject.id)}</td><td>${h(f.status)}</td><td>${h(f.firstSeen)}</td><td class="n">${f.ageDays.toFixed(1)}</td></tr>`).join('\n')}
</tbody>
</table>`
}
<h2>Fixed findings (${c.fixedFindings.length})</h2>
${
  c.fixedFindings.length === 0
    ? '<p>None.</p>'
    : `<table>
<caption>Findings that failed and pass now</caption>
<thead><tr><th scope="col">Control</th><th scope="col">Subject</th><th scope="col">First seen</th><th scope="col">Fixed at</th><th scope="col">Hours to fix</th></tr></thead>
<tbody>
${c.fixedFindings.map((f) => `<tr><td>${h(f.control)}</td><td>${h(f.subject.kind)} ${h(f.subject.id)}</td><td>${h(f.firstSeen)}</td><td>${h(f.fixedAt)}</td><td class="n">${f.hoursToFix.toFixed(1)}</td></tr>`).join('\n')}
</tbody>
</table>`
}
<h2>Waivers (${c.waivers.length})</h2>
${
  c.waivers.length === 0
    ? '<p>None in the newest run.</p>'
    : `<table>
<caption>Waivers of the newest run</caption>
<thead><tr><th scope="col">Control</th><th scope="col">Subject</th><th scope="col">Justification</th><th scope="col">Owner</th><th scope="col">Expires</th><th scope="col">State</th></tr></thead>
<tbody>
${c.waivers.map((w) => `<tr><td>${h(w.control)}</td><td>${h(w.subject)}</td><td>${h(w.justification)}</td><td>${h(w.owner)}</td><td>${h(w.expires)}</td><td>${h(w.state)}</td></tr>`).join('\n')}
</tbody>
</table>`
}
</body>
</html>
`;
}

function controlRow(c: ComplianceReport['controls'][number]): string {
  const last = c.days.at(-1)?.compliantShare;
  return `<tr><th scope="row">${h(c.control)}</th><td>${h(c.severity)}</td><td>${h(c.title)}</td><td class="${c.trend}">${c.trend}</td><td class="n">${last === null || last === undefined ? '–' : `${(last * 100).toFixed(1)} %`}</td><td>${trendChart(c)}</td></tr>`;
}

const CHART_WIDTH = 160;
const CHART_HEIGHT = 28;

/** The compliant share per day as a small line (100 % at the top); days without a share are gaps. */
function trendChart(c: ComplianceReport['controls'][number]): string {
  const n = c.days.length;
  const x = (i: number): number => (n <= 1 ? CHART_WIDTH / 2 : (i * (CHART_WIDTH - 4)) / (n - 1) + 2);
  const y = (share: number): number => 2 + (1 - share) * (CHART_HEIGHT - 4);
  const segments: string[][] = [[]];
  c.days.forEach((d, i) => {
    if (d.compliantShare === null) segments.push([]);
    else segments.at(-1)!.push(`${x(i).toFixed(1)},${y(d.compliantShare).toFixed(1)}`);
  });
  const lines = segments
    .filter((s) => s.length > 0)
    .map((s) =>
      s.length === 1
        ? `<circle cx="${s[0]!.split(',')[0]}" cy="${s[0]!.split(',')[1]}" r="1.5" fill="#0969da"/>`
        : `<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="${s.join(' ')}"/>`,
    )
    .join('');
  const label = c.days.map((d) => `${d.date} ${d.compliantShare === null ? 'n/a' : `${Math.round(d.compliantShare * 100)}%`}`).join(', ');
  return `<svg width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${h(`${c.control} compliant share per day: ${label}`)}"><rect x="0" y="0" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#f6f8fa"/>${lines}</svg>`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
