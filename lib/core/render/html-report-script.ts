/**
 * report.html's script: search, filters and sort over the VM table, and drill-downs opened from a link
 * (`#vm-3`). The page is whole without it. It reads the VMs from the JSON data block (rows in table
 * order) and writes only text (textContent) and attributes it chooses itself: nothing a VM sent is ever
 * parsed as markup. Allowed by its hash in the page's Content-Security-Policy, so it must stay a constant.
 */
export const HTML_REPORT_SCRIPT = `
(function () {
  'use strict';
  var source = document.getElementById('vm-data');
  var table = document.getElementById('vms');
  var form = document.getElementById('vm-filters');
  if (!source || !table || !form) return;
  var data = JSON.parse(source.textContent || '[]');
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var STATUS_RANK = { NON_COMPLIANT: 0, UNKNOWN: 1, COMPLIANT: 2 };
  // [hostname, instance id, namespace, status, failing controls, severities], one per row.
  var vms = data.map(function (d, i) {
    return {
      row: rows[i],
      drill: document.getElementById('vm-' + i),
      host: d[0] || '',
      id: d[1],
      ns: d[2] || '',
      status: d[3],
      controls: d[4],
      severities: d[5],
      text: [d[0] || '', d[1], d[2] || ''].concat(d[4]).join('\\n').toLowerCase()
    };
  });
  var field = function (name) { return form.elements.namedItem(name); };
  var count = document.getElementById('vm-count');
  var total = vms.length;
  form.hidden = false;
  form.addEventListener('submit', function (event) { event.preventDefault(); });

  function apply() {
    var words = field('q').value.toLowerCase().split(/\\s+/).filter(Boolean);
    var status = field('status').value;
    var ns = field('namespace').value;
    var control = field('control').value;
    var severity = field('severity').value;
    var shown = 0;
    for (var i = 0; i < vms.length; i++) {
      var vm = vms[i];
      var match = (!status || vm.status === status) && (!ns || vm.ns === ns) &&
        (!control || vm.controls.indexOf(control) !== -1) && (!severity || vm.severities.indexOf(severity) !== -1) &&
        words.every(function (w) { return vm.text.indexOf(w) !== -1; });
      if (vm.row.hidden === match) vm.row.hidden = !match;
      if (vm.drill && vm.drill.hidden === match) vm.drill.hidden = !match;
      if (match) shown++;
    }
    count.textContent = shown === total ? 'Showing all ' + total.toLocaleString('en') + ' ' + (total === 1 ? 'VM' : 'VMs')
      : 'Showing ' + shown.toLocaleString('en') + ' of ' + total.toLocaleString('en') + ' ' + (total === 1 ? 'VM' : 'VMs');
  }
  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  form.addEventListener('reset', function () { setTimeout(apply, 0); });

  var KEYS = {
    hostname: function (vm) { return vm.host.toLowerCase(); },
    instance: function (vm) { return vm.id; },
    namespace: function (vm) { return vm.ns; },
    status: function (vm) { return STATUS_RANK[vm.status]; },
    failing: function (vm) { return -vm.controls.length; }
  };
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th) {
    var key = th.getAttribute('data-sort');
    if (!key) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = th.textContent;
    th.textContent = '';
    th.appendChild(button);
    button.addEventListener('click', function () {
      var descending = th.getAttribute('aria-sort') === 'ascending';
      headers.forEach(function (other) { if (other.hasAttribute('data-sort')) other.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      var by = KEYS[key];
      var order = vms.map(function (vm, i) { return { key: by(vm), i: i }; });
      order.sort(function (a, b) {
        var c = a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i;
        return descending && a.key !== b.key ? -c : c;
      });
      var fragment = document.createDocumentFragment();
      order.forEach(function (o) { fragment.appendChild(vms[o.i].row); });
      body.appendChild(fragment);
    });
  });

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!target || target.tagName !== 'DETAILS') return;
    target.hidden = false;
    target.open = true;
    target.querySelector('summary').focus();
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();

  var closed = [];
  window.addEventListener('beforeprint', function () {
    closed = Array.prototype.filter.call(document.querySelectorAll('details:not([open])'), function (d) { d.open = true; return true; });
  });
  window.addEventListener('afterprint', function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });
  apply();
  document.documentElement.setAttribute('data-ready', '');
})();
`;
