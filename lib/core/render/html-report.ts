import { SEVERITIES, type Report } from '../report.ts';
import { describeWaiverSubject, type WaiverReport } from '../waivers.ts';
import { cspHashSource } from './csp-hash.ts';
import { renderScriptData } from './html-report-data.ts';
import { buildHtmlReportModel, type DrillDown, type ListedFinding, type VmRow } from './html-report-model.ts';
import { HTML_REPORT_SCRIPT } from './html-report-script.ts';
import { HTML_REPORT_STYLE } from './html-report-style.ts';
import { escapeHtml as h } from './text.ts';

/** The page allows its own style and script, by hash, and nothing else: no other script, no request. */
const CSP = `default-src 'none'; style-src ${cspHashSource(HTML_REPORT_STYLE)}; script-src ${cspHashSource(HTML_REPORT_SCRIPT)}; base-uri 'none'; form-action 'none'`;

/**
 * Renders report.html: one self-contained page, whole without script. The summary, the controls, the
 * waivers, a VM table (searchable, filterable and sortable when script runs) and one drill-down per VM,
 * proxy or WorkloadEntry with something to act on. Every string that came from a VM or the cluster is
 * escaped; the script gets the VMs as JSON and writes them only as text.
 *
 * A VM's drill-down is built by the script when it is opened; without script the same drill-downs are
 * in a <noscript> list, which a browser running the script reads as one text node and does not build.
 * Thousands of drill-downs built up front made a 10,000-VM page take seconds to open.
 */
export function renderHtmlReport(report: Report): string {
  const s = report.summary;
  const model = buildHtmlReportModel(report);
  const vmDrillDowns = model.drillDowns.filter((d) => d.kind === 'vm');
  const meshDrillDowns = model.drillDowns.filter((d) => d.kind !== 'vm');
  const failing = SEVERITIES.filter((sev) => s.bySeverity[sev] > 0).map((sev) => `${s.bySeverity[sev]} ${sev}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>Istio VM fleet audit ${h(report.runId)}</title>
<style>${HTML_REPORT_STYLE}</style>
</head>
<body>
<header>
<h1>Istio VM fleet audit</h1>
<p class="meta">Run <code>${h(report.runId)}</code> · source ${h(report.source)} · started ${h(report.startedAt)} · finished ${h(report.finishedAt)}</p>
</header>
<main>
<section aria-labelledby="summary-title">
<h2 id="summary-title">Summary</h2>
<ul class="cards">
<li><b>${count(s.vms)}</b>${noun(s.vms, 'VM')}</li>
<li><b>${count(s.compliant)}</b>compliant</li>
<li><b>${count(s.nonCompliant)}</b>non-compliant</li>
<li><b>${count(s.unknown)}</b>unknown</li>
</ul>
<p>${failing.length > 0 ? `Failing findings by severity: ${failing.join(', ')}.` : 'No finding fails.'} ${meshDrillDowns.length > 0 ? `${plural(meshDrillDowns.length, 'subject')} that no VM claims (a proxy, a WorkloadEntry, the fleet) ${meshDrillDowns.length === 1 ? 'has' : 'have'} <a href="#mesh-title">findings of ${meshDrillDowns.length === 1 ? 'its' : 'their'} own</a>.` : ''}</p>
</section>
<section aria-labelledby="controls-title">
<h2 id="controls-title">Controls</h2>
<table id="controls">
<thead><tr><th scope="col">Control</th><th scope="col">Severity</th><th scope="col">Title</th><th scope="col" class="n">Pass</th><th scope="col" class="n">Fail</th><th scope="col" class="n">Error</th><th scope="col" class="n">Skip</th><th scope="col" class="n">Waived</th><th scope="col">How to fix</th></tr></thead>
<tbody>
${Object.entries(s.byControl)
  .map(
    ([id, c]) =>
      `<tr><th scope="row" id="control-${h(id)}">${h(id)}</th><td>${h(c.severity)}</td><td>${h(c.title)}</td><td class="n">${c.PASS}</td><td class="n">${c.FAIL}</td><td class="n">${c.ERROR}</td><td class="n">${c.SKIP}</td><td class="n">${c.WAIVED}</td><td class="fix">${withCode(model.remediations.get(id) ?? '')}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>
</section>
${renderWaivers(report.waivers)}<section aria-labelledby="vms-title">
<h2 id="vms-title">Virtual machines</h2>
<p class="note">A VM's findings are on its proxy, its WorkloadEntry and itself, each with its evidence and how to fix it. A finding that could not be evaluated because another failed is listed under that one.</p>
<div id="vm-app" hidden>
<form id="vm-filters" role="search" aria-label="Search and filter the VMs">
<label>Search<input type="search" name="q" placeholder="hostname, instance id, namespace, control" autocomplete="off"></label>
<label>Status<select name="status"><option value="">any</option><option>NON_COMPLIANT</option><option>UNKNOWN</option><option>COMPLIANT</option></select></label>
<label>Namespace<select name="namespace"><option value="">any</option>${model.namespaces.map((ns) => `<option>${h(ns)}</option>`).join('')}</select></label>
<label>Failing control<select name="control"><option value="">any</option>${model.listedControls.map((c) => `<option>${h(c)}</option>`).join('')}</select></label>
<label>Severity<select name="severity"><option value="">any</option>${SEVERITIES.map((sev) => `<option>${sev}</option>`).join('')}</select></label>
<button type="reset">Clear</button>
</form>
<p id="vm-count" role="status" aria-live="polite"></p>
<table id="vms">
<caption>VMs, problems first; a hostname opens the VM's findings</caption>
${vmTableHead(true)}
<tbody></tbody>
</table>
<p class="more"><button type="button" id="vm-more" hidden></button> <button type="button" id="vm-all" hidden></button></p>
</div>
<script type="application/json" id="vm-data">${renderScriptData(model.rows, new Map(vmDrillDowns.map((d) => [d.anchor, d.findings])))}</script>
<script>${HTML_REPORT_SCRIPT}</script>
<noscript>
<table id="vms-static">
<caption>${plural(s.vms, 'VM')}, problems first; a hostname links to the VM's findings</caption>
${vmTableHead(false)}
<tbody>
${model.rows.map(vmRow).join('\n')}
</tbody>
</table>
<h3 id="findings-title">Findings by VM</h3>
${vmDrillDowns.length > 0 ? vmDrillDowns.map((d) => drillDown(d, model.remediations)).join('\n') : '<p>No VM has a finding to act on.</p>'}
</noscript>
</section>
${
  meshDrillDowns.length > 0
    ? `<section aria-labelledby="mesh-title">
<h2 id="mesh-title">Findings about proxies, WorkloadEntries and the fleet that no VM claims</h2>
${meshDrillDowns.map((d) => drillDown(d)).join('\n')}
</section>
`
    : ''
}</main>
</body>
</html>
`;
}

const VM_COLUMNS = [
  ['hostname', 'Hostname'],
  ['instance', 'Instance'],
  ['namespace', 'Namespace'],
  ['status', 'Status'],
  ['failing', 'Failing controls'],
] as const;

/** The VM table's header; the script makes a sortable one's cells buttons, by their sort key. */
function vmTableHead(sortable: boolean): string {
  return `<thead><tr>${VM_COLUMNS.map(([key, name]) => `<th scope="col"${sortable ? ` data-sort="${key}"` : ''}>${name}</th>`).join('')}</tr></thead>`;
}

function vmRow(row: VmRow): string {
  const vm = row.vm;
  const name = h(vm.hostname ?? '(no hostname)');
  const failing = row.causes.map((f) => `${h(f.control)} ${f.status}`).join(', ');
  const more = row.consequences > 0 ? ` <small>(${plural(row.consequences, 'other finding')} not evaluated)</small>` : '';
  return `<tr><th scope="row">${row.anchor ? `<a href="#${row.anchor}">${name}</a>` : name}</th><td>${h(vm.instanceId)}</td><td>${h(vm.namespace ?? '-')}</td><td><span class="s ${vm.status}">${vm.status}</span></td><td>${failing || 'none'}${more}</td></tr>`;
}

/**
 * A subject's findings. Given the controls' remediations (shown in the controls table), a finding refers
 * to its control's instead of repeating it: thousands of VMs fail the same few controls.
 */
function drillDown(d: DrillDown, remediations?: ReadonlyMap<string, string>): string {
  const what = d.vm
    ? `${h(d.vm.hostname ?? '(no hostname)')} · ${h(d.vm.instanceId)}`
    : d.kind === 'fleet'
      ? 'The fleet'
      : `${d.kind === 'proxy' ? 'Proxy' : 'WorkloadEntry'} ${h(d.id)}`;
  const status = d.vm ? ` <span class="s ${d.vm.status}">${d.vm.status}</span>` : '';
  const findings = d.findings.length + d.findings.reduce((n, f) => n + f.consequences.length, 0);
  const facts = d.vm
    ? `<p class="meta">IP ${h(d.vm.ip ?? '-')} · namespace ${h(d.vm.namespace ?? '-')} · proxy ${h(d.vm.proxyId ?? '-')} · WorkloadEntry ${h(d.vm.workloadEntry ?? '-')}</p>\n`
    : '';
  return `<details class="subject" id="${d.anchor}"><summary>${what}${status} · ${plural(findings, 'finding')}</summary>
${facts}<ol class="findings">
${d.findings.map((f) => listedFinding(f, d, remediations)).join('\n')}
</ol></details>`;
}

const SUBJECT_NAMES: Record<DrillDown['kind'], string> = { vm: 'VM', proxy: 'proxy', workloadentry: 'WorkloadEntry', fleet: 'fleet' };

function listedFinding(
  { finding: f, consequences }: ListedFinding,
  d: DrillDown,
  remediations: ReadonlyMap<string, string> | undefined,
): string {
  const about =
    f.subject.kind !== d.kind || f.subject.id !== d.id
      ? ` <span class="meta">on ${SUBJECT_NAMES[f.subject.kind]} ${h(f.subject.id)}</span>`
      : '';
  const { waiver, ...evidence } = f.evidence;
  const shown = f.status === 'WAIVED' ? evidence : f.evidence;
  const folded =
    consequences.length > 0
      ? `\n<details><summary>${plural(consequences.length, 'finding')} not evaluated because of this</summary><ul>${consequences.map((c) => `<li>${h(c.control)} <span class="s ${c.status}">${c.status}</span> ${h(c.message)}</li>`).join('')}</ul></details>`
      : '';
  return `<li><span class="s ${f.status}">${f.status}</span> <b>${h(f.control)}</b> ${h(f.severity)}${about}: ${h(f.message)}${f.status === 'WAIVED' ? waiverNote(waiver) : ''}
<p class="fix">Fix: ${remediations?.get(f.control) === f.remediation ? `see <a href="#control-${h(f.control)}">${h(f.control)}</a> in the controls` : withCode(f.remediation)}</p>${Object.keys(shown).length > 0 ? `\n<details><summary>evidence</summary><pre>${h(JSON.stringify(shown, null, 2))}</pre></details>` : ''}${folded}</li>`;
}

/** The waiver a WAIVED finding carries in its evidence (lib/core/waivers.ts, applyWaivers), in plain words. */
function waiverNote(waiver: unknown): string {
  if (typeof waiver !== 'object' || waiver === null) return '';
  const w = waiver as Record<string, unknown>;
  const text = (key: string): string => h(typeof w[key] === 'string' ? w[key] : '-');
  return `\n<p class="waiver">Waived until ${text('expires')} by ${text('owner')}: ${text('justification')}</p>`;
}

function renderWaivers(waivers: readonly WaiverReport[]): string {
  if (waivers.length === 0) return '';
  return `<section aria-labelledby="waivers-title">
<h2 id="waivers-title">Waivers</h2>
<table id="waivers">
<thead><tr><th scope="col">Control</th><th scope="col">Subjects</th><th scope="col">Justification</th><th scope="col">Owner</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col" class="n">Findings waived</th></tr></thead>
<tbody>
${waivers
  .map(
    (w) =>
      `<tr><th scope="row">${h(w.control)}</th><td>${h(describeWaiverSubject(w.subject))}</td><td>${h(w.justification)}</td><td>${h(w.owner)}</td><td>${h(w.expires)}</td><td><span class="s ${w.state}">${w.state}</span></td><td class="n">${w.waived}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>
</section>
`;
}

/** Remediations mark commands with backticks (Markdown code spans): shown as code. */
export function withCode(text: string): string {
  return text
    .split('`')
    .map((part, i, parts) => (i % 2 === 1 && i < parts.length - 1 ? `<code>${h(part)}</code>` : h(i % 2 === 1 ? `\`${part}` : part)))
    .join('');
}

/** `1 VM`, `2 VMs`. */
function plural(n: number, one: string): string {
  return `${count(n)} ${noun(n, one)}`;
}

function noun(n: number, one: string): string {
  return n === 1 ? one : `${one}s`;
}

function count(n: number): string {
  return n.toLocaleString('en');
}
