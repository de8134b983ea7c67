import type { Finding, Report, VmSummary } from '../report.ts';
import { escapeHtml as h } from './text.ts';

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
.meta{color:#57606a}
.cards{display:flex;gap:1rem;margin:1rem 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.card b{display:block;font-size:1.6rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d8dee4;vertical-align:top}
th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.s{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.8rem;font-weight:600}
.PASS,.COMPLIANT{background:#dafbe1;color:#116329}
.FAIL,.NON_COMPLIANT{background:#ffebe9;color:#a40e26}
.ERROR,.UNKNOWN{background:#fff8c5;color:#7d4e00}
.SKIP,.WAIVED{background:#eaeef2;color:#424a53}
pre{margin:.3rem 0 0;white-space:pre-wrap;word-break:break-all;font-size:.8rem;background:#f6f8fa;padding:.4rem}
`;

/**
 * Renders report.html: one self-contained page with no script and no external resource (its
 * Content-Security-Policy forbids both). Every string that came from a VM or the cluster is escaped.
 */
export function renderHtmlReport(report: Report): string {
  const s = report.summary;
  // SKIP means "does not apply": counted in the controls table, not listed one by one.
  const notPassing = report.findings.filter((f) => f.status === 'FAIL' || f.status === 'ERROR' || f.status === 'WAIVED');
  const vms = [...report.vms].sort((a, b) => VM_ORDER[a.status] - VM_ORDER[b.status]);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Istio VM fleet audit ${h(report.runId)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Istio VM fleet audit</h1>
<p class="meta">Run <code>${h(report.runId)}</code> · source ${h(report.source)} · started ${h(report.startedAt)} · finished ${h(report.finishedAt)}</p>
<div class="cards">
<div class="card"><b>${s.vms}</b>VMs</div>
<div class="card"><b>${s.compliant}</b>compliant</div>
<div class="card"><b>${s.nonCompliant}</b>non-compliant</div>
<div class="card"><b>${s.unknown}</b>unknown</div>
</div>
<h2>Controls</h2>
<table id="controls">
<thead><tr><th>Control</th><th>Severity</th><th>Title</th><th>Pass</th><th>Fail</th><th>Error</th><th>Skip</th><th>Waived</th></tr></thead>
<tbody>
${Object.entries(s.byControl)
  .map(([id, c]) => `<tr><td>${h(id)}</td><td>${h(c.severity)}</td><td>${h(c.title)}</td><td class="n">${c.PASS}</td><td class="n">${c.FAIL}</td><td class="n">${c.ERROR}</td><td class="n">${c.SKIP}</td><td class="n">${c.WAIVED}</td></tr>`)
  .join('\n')}
</tbody>
</table>
<h2>Virtual machines</h2>
<table id="vms">
<thead><tr><th>Instance</th><th>Hostname</th><th>IP</th><th>Proxy</th><th>WorkloadEntry</th><th>Status</th></tr></thead>
<tbody>
${vms
  .map((vm) => `<tr><td>${h(vm.instanceId)}</td><td>${h(vm.hostname ?? '-')}</td><td>${h(vm.ip ?? '-')}</td><td>${h(vm.proxyId ?? '-')}</td><td>${h(vm.workloadEntry ?? '-')}</td><td><span class="s ${vm.status}">${vm.status}</span></td></tr>`)
  .join('\n')}
</tbody>
</table>
<h2>Findings that failed or could not be evaluated (${notPassing.length} of ${report.findings.length})</h2>
<table id="findings">
<thead><tr><th>Control</th><th>Severity</th><th>Subject</th><th>Status</th><th>Message and evidence</th></tr></thead>
<tbody>
${notPassing.map(findingRow).join('\n')}
</tbody>
</table>
</body>
</html>
`;
}

/** Problems first: a reader opens the report to see what is wrong. */
const VM_ORDER: Record<VmSummary['status'], number> = { NON_COMPLIANT: 0, UNKNOWN: 1, COMPLIANT: 2 };

function findingRow(f: Finding): string {
  const evidence = Object.keys(f.evidence).length > 0 ? `<details><summary>evidence</summary><pre>${h(JSON.stringify(f.evidence, null, 2))}</pre></details>` : '';
  return `<tr><td>${h(f.control)}</td><td>${h(f.severity)}</td><td>${h(f.subject.kind)} ${h(f.subject.id)}</td><td><span class="s ${f.status}">${f.status}</span></td><td>${h(f.message)}<br><small>${h(f.remediation)}</small>${evidence}</td></tr>`;
}
