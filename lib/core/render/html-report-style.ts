/**
 * report.html's stylesheet. Colours keep a contrast of at least 4.5:1 against their background (WCAG AA);
 * printing shows every drill-down open and none of the controls that only work on screen.
 */
export const HTML_REPORT_STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}h3{font-size:1rem;margin:.8rem 0 .3rem}
a{color:#0550ae}
:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.meta,.note{color:#57606a}
.cards{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0;padding:0;list-style:none}
.cards li{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.cards b{display:block;font-size:1.6rem}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d8dee4;vertical-align:top}
thead th{background:#f6f8fa;position:sticky;top:0}
th[scope=row]{font-weight:400}
#controls th[scope=row]{white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
th button{font:inherit;font-weight:600;color:inherit;background:none;border:0;padding:0;cursor:pointer;text-align:left}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
.s{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.8rem;font-weight:600}
.PASS,.COMPLIANT,.active{background:#dafbe1;color:#116329}
.FAIL,.NON_COMPLIANT,.expired,.unknown-control{background:#ffebe9;color:#a40e26}
.ERROR,.UNKNOWN{background:#fff8c5;color:#6f4400}
.SKIP,.WAIVED,.unused{background:#eaeef2;color:#424a53}
form{display:flex;flex-wrap:wrap;gap:.6rem 1.2rem;align-items:end;margin:.5rem 0;padding:.6rem;border:1px solid #d0d7de;border-radius:6px}
form label{display:flex;flex-direction:column;font-weight:600;gap:.2rem}
input,select{font:inherit;padding:.2rem .3rem;border:1px solid #6e7781;border-radius:4px}
input[type=search]{min-width:22rem}
details.subject{border:1px solid #d0d7de;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
details.subject>summary{cursor:pointer;font-weight:600}
details.subject:target,details.subject[open]{border-color:#0969da}
ol.findings{margin:.3rem 0;padding-left:1.2rem}
ol.findings>li{margin:.5rem 0}
.fix{margin:.2rem 0}
.waiver{margin:.2rem 0;padding:.2rem .4rem;border-left:3px solid #6e7781;background:#f6f8fa}
code{font-size:.85em;background:#eff1f3;padding:0 .2rem;border-radius:3px}
pre{margin:.3rem 0 0;white-space:pre-wrap;word-break:break-all;font-size:.8rem;background:#f6f8fa;padding:.4rem}
[hidden]{display:none!important}
@media print{
body{margin:0;font-size:11px}
form,.more,th button::after{display:none!important}
thead th{position:static}
details::details-content{content-visibility:visible;display:block}
details.subject{break-inside:avoid}
a{color:inherit;text-decoration:none}
}
`;
