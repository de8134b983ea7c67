/**
 * report.html's script, placed right after the VM table's data so that it runs before the rest of the
 * page is parsed: the VM table with search, filters, sort and each VM's findings in a row under it,
 * opened from its hostname's link (`#vm-3`, also as the page's address). It builds only the rows shown,
 * a hundred at a time, and a drill-down only when it is opened: a browser that builds and lays out a
 * table of 10,000 VMs as it parses takes tens of seconds to open the page.
 *
 * The page is whole without it: the same table and drill-downs are in <noscript>, which a browser running
 * the script reads as one text node and does not build. The script reads the VMs from the JSON data
 * block (lib/core/render/html-report-data.ts) and writes only text (textContent) and attributes it
 * chooses itself: nothing a VM sent is ever parsed as markup. Allowed by its hash in the page's
 * Content-Security-Policy, so it must stay a constant.
 */
export const HTML_REPORT_SCRIPT = `
(function () {
  'use strict';
  var source = document.getElementById('vm-data');
  var app = document.getElementById('vm-app');
  if (!source || !app) return;
  var data = JSON.parse(source.textContent || '{}');
  var form = document.getElementById('vm-filters');
  var table = document.getElementById('vms');
  var body = table.tBodies[0];
  var more = document.getElementById('vm-more');
  var all = document.getElementById('vm-all');
  var count = document.getElementById('vm-count');
  var columns = table.tHead.rows[0].cells.length;
  var PAGE = 100;
  var STATUS_RANK = { NON_COMPLIANT: 0, UNKNOWN: 1, COMPLIANT: 2 };
  var STATUSES = { PASS: 1, FAIL: 1, ERROR: 1, SKIP: 1, WAIVED: 1, COMPLIANT: 1, NON_COMPLIANT: 1, UNKNOWN: 1 };
  var SUBJECTS = { vm: 'VM', proxy: 'proxy', workloadentry: 'WorkloadEntry', fleet: 'fleet' };
  var vms = data.vms.map(function (d, i) {
    return {
      d: d,
      index: i,
      row: null,
      drill: null,
      open: false,
      text: [d.h || '', d.i, d.n || ''].concat(d.c.map(function (c) { return c[0]; })).join('\\n').toLowerCase()
    };
  });
  var total = vms.length;
  var order = vms.slice();
  var matching = order;
  var shown = PAGE;
  var field = function (name) { return form.elements.namedItem(name); };

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function badge(status) {
    return el('span', STATUSES[status] ? 's ' + status : 's', status);
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return parent;
  }
  // Remediations mark commands with backticks (Markdown code spans).
  function withCode(parent, text) {
    var parts = String(text).split('\`');
    parts.forEach(function (part, i) {
      if (i % 2 === 1 && i < parts.length - 1) parent.appendChild(el('code', null, part));
      else parent.appendChild(document.createTextNode(i % 2 === 1 ? '\`' + part : part));
    });
    return parent;
  }
  function plural(n, one) {
    return n.toLocaleString('en') + ' ' + (n === 1 ? one : one + 's');
  }

  function rowOf(vm) {
    var d = vm.d;
    var name = d.h || '(no hostname)';
    var head = el('th');
    head.scope = 'row';
    if (d.f) {
      var link = el('a', null, name);
      link.href = '#vm-' + vm.index;
      link.setAttribute('aria-expanded', 'false');
      head.appendChild(link);
    } else {
      head.textContent = name;
    }
    var failing = d.c.map(function (c) { return c[0] + ' ' + c[1]; }).join(', ') || 'none';
    var cell = el('td', null, failing);
    if (d.x) add(cell, ' ', el('small', null, '(' + plural(d.x, 'other finding') + ' not evaluated)'));
    return add(el('tr'), head, el('td', null, d.i), el('td', null, d.n || '-'), add(el('td'), badge(d.s)), cell);
  }
  function findingItem(f) {
    var li = add(el('li'), badge(f.s), ' ', el('b', null, f.c), ' ' + f.v);
    if (f.k) add(li, ' ', el('span', 'meta', 'on ' + (SUBJECTS[f.k] || f.k) + ' ' + f.i));
    add(li, ': ' + f.m);
    if (f.w) add(li, el('p', 'waiver', 'Waived until ' + f.w.expires + ' by ' + f.w.owner + ': ' + f.w.justification));
    li.appendChild(withCode(el('p', 'fix', 'Fix: '), data.r[f.r]));
    if (f.e) li.appendChild(add(el('details'), el('summary', null, 'evidence'), el('pre', null, JSON.stringify(f.e, null, 2))));
    if (f.x) {
      var list = el('ul');
      f.x.forEach(function (x) { list.appendChild(add(el('li'), x[0] + ' ', badge(x[1]), ' ' + x[2])); });
      li.appendChild(add(el('details'), el('summary', null, plural(f.x.length, 'finding') + ' not evaluated because of this'), list));
    }
    return li;
  }
  function drillOf(vm) {
    var d = vm.d;
    var cell = el('td');
    cell.colSpan = columns;
    add(cell, el('p', 'meta', 'IP ' + (d.ip || '-') + ' · namespace ' + (d.n || '-') + ' · proxy ' + (d.p || '-') + ' · WorkloadEntry ' + (d.w || '-')));
    var list = el('ol', 'findings');
    d.f.forEach(function (f) { list.appendChild(findingItem(f)); });
    cell.appendChild(list);
    var tr = add(el('tr', 'drill'), cell);
    tr.id = 'vm-' + vm.index;
    tr.setAttribute('aria-label', 'Findings of ' + (d.h || d.i));
    return tr;
  }
  function setOpen(vm, open) {
    if (!vm.d.f) return;
    vm.open = open;
    if (!vm.row) return;
    if (open && !vm.drill) vm.drill = drillOf(vm);
    if (open && vm.drill.parentNode !== body) body.insertBefore(vm.drill, vm.row.nextSibling);
    if (vm.drill) vm.drill.hidden = !open;
    vm.row.querySelector('a').setAttribute('aria-expanded', String(open));
  }

  // The table shows the first \`shown\` VMs that match, in the current order.
  function render() {
    var fragment = document.createDocumentFragment();
    var end = Math.min(shown, matching.length);
    for (var i = 0; i < end; i++) {
      var vm = matching[i];
      if (!vm.row) vm.row = rowOf(vm);
      fragment.appendChild(vm.row);
      if (vm.open && !vm.drill) vm.drill = drillOf(vm);
      if (vm.drill) {
        vm.drill.hidden = !vm.open;
        vm.row.querySelector('a').setAttribute('aria-expanded', String(vm.open));
        fragment.appendChild(vm.drill);
      }
    }
    body.textContent = '';
    body.appendChild(fragment);
    var rest = matching.length - end;
    more.hidden = rest <= 0;
    all.hidden = rest <= PAGE;
    more.textContent = 'Show ' + Math.min(PAGE, rest).toLocaleString('en') + ' more';
    all.textContent = 'Show all ' + plural(matching.length, 'VM');
    count.textContent = (matching.length === total ? 'All ' + plural(total, 'VM') : plural(matching.length, 'VM') + ' of ' + total.toLocaleString('en') + ' match') +
      (end < matching.length ? '; showing the first ' + end.toLocaleString('en') : '');
  }
  // A change event after the input events of the same text must not rebuild the rows: a click that
  // caused it (on a hostname) would be lost with the row it began on.
  var applied = null;
  function apply(force) {
    var words = field('q').value.toLowerCase().split(/\\s+/).filter(Boolean);
    var status = field('status').value;
    var ns = field('namespace').value;
    var control = field('control').value;
    var severity = field('severity').value;
    var key = [words.join(' '), status, ns, control, severity].join('\\n');
    if (key === applied && force !== true) return;
    applied = key;
    matching = order.filter(function (vm) {
      var d = vm.d;
      return (!status || d.s === status) && (!ns || d.n === ns) &&
        (!control || d.c.some(function (c) { return c[0] === control; })) && (!severity || d.v.indexOf(severity) !== -1) &&
        words.every(function (w) { return vm.text.indexOf(w) !== -1; });
    });
    shown = PAGE;
    render();
  }
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  form.addEventListener('input', function () { apply(); });
  form.addEventListener('change', function () { apply(); });
  form.addEventListener('reset', function () { setTimeout(apply, 0); });
  more.addEventListener('click', function () { shown += PAGE; render(); });
  all.addEventListener('click', function () { shown = matching.length; render(); });

  body.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[href^="#vm-"]');
    var vm = link && vms[Number(link.getAttribute('href').slice(4))];
    if (!vm) return;
    event.preventDefault();
    setOpen(vm, !vm.open);
    history.replaceState(null, '', vm.open ? '#vm-' + vm.index : location.pathname + location.search);
  });

  var KEYS = {
    hostname: function (d) { return (d.h || '').toLowerCase(); },
    instance: function (d) { return d.i; },
    namespace: function (d) { return d.n || ''; },
    status: function (d) { return STATUS_RANK[d.s]; },
    failing: function (d) { return -d.c.length; }
  };
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th) {
    var key = th.getAttribute('data-sort');
    if (!key) return;
    var button = el('button', null, th.textContent);
    button.type = 'button';
    th.textContent = '';
    th.appendChild(button);
    th.setAttribute('aria-sort', 'none');
    button.addEventListener('click', function () {
      var descending = th.getAttribute('aria-sort') === 'ascending';
      headers.forEach(function (other) { if (other.hasAttribute('data-sort')) other.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      var by = KEYS[key];
      order = vms.map(function (vm) { return { key: by(vm.d), vm: vm }; }).sort(function (a, b) {
        var c = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
        return (descending ? -c : c) || a.vm.index - b.vm.index;
      }).map(function (o) { return o.vm; });
      apply(true);
    });
  });

  // A link to a VM (#vm-3) shows that VM alone, open; to another drill-down, opens it.
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var match = /^vm-(\\d+)$/.exec(id);
    var vm = match && vms[Number(match[1])];
    if (vm && vm.d.f) {
      form.reset();
      field('q').value = vm.d.i;
      vm.open = true;
      apply(true);
      if (!vm.drill) return;
      vm.drill.scrollIntoView();
      vm.row.querySelector('a').focus();
      return;
    }
    var target = id && document.getElementById(id);
    if (!target || target.tagName !== 'DETAILS') return;
    target.open = true;
    target.scrollIntoView();
    target.querySelector('summary').focus();
  }
  window.addEventListener('hashchange', openTarget);

  // Printing shows every VM that matches, each with its findings, and every other drill-down open.
  var before = null;
  window.addEventListener('beforeprint', function () {
    before = { shown: shown, open: vms.filter(function (vm) { return vm.open; }), details: Array.prototype.filter.call(document.querySelectorAll('details:not([open])'), function () { return true; }) };
    matching.forEach(function (vm) { vm.open = Boolean(vm.d.f); });
    shown = matching.length;
    render();
    before.details.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () {
    if (!before) return;
    vms.forEach(function (vm) { vm.open = false; });
    before.open.forEach(function (vm) { vm.open = true; });
    before.details.forEach(function (d) { d.open = false; });
    shown = before.shown;
    before = null;
    render();
  });

  app.hidden = false;
  apply();
  // The script runs as soon as the table is parsed, before the rest of the page (drill-downs of subjects
  // no VM claims, which a link may name), so that the table is usable while the rest arrives.
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', openTarget);
  else openTarget();
  // For the benchmark and the tests: when search, filters and sort are ready.
  if (window.performance && performance.mark) performance.mark('report-ready');
  document.documentElement.setAttribute('data-ready', '');
})();
`;
