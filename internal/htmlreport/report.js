"use strict";
// Sorting and filtering of the report's tables. Everything else on the page works without it.
(function () {
  function key(td, numeric) {
    var v = td.hasAttribute("data-sort") ? td.getAttribute("data-sort") : td.textContent;
    if (!numeric) return v.toLowerCase();
    var n = parseFloat(v);
    return isNaN(n) ? null : n;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("th");
    heads.forEach(function (th) {
      th.addEventListener("click", function () {
        var col = +th.getAttribute("data-col");
        var numeric = th.hasAttribute("data-numeric");
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
          if (x === y) return 0;
          if (x === null) return 1; // missing values last either way
          if (y === null) return -1;
          return (x < y ? -1 : 1) * (asc ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var filter = document.getElementById("verdict-filter");
  if (!filter) return;
  var table = document.getElementById(filter.getAttribute("data-table"));
  var shown = document.getElementById("shown");
  var seen = {};
  Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
    var v = r.getAttribute("data-verdict");
    if (v && !seen[v]) {
      seen[v] = true;
      var o = document.createElement("option");
      o.value = v;
      o.textContent = v;
      filter.appendChild(o);
    }
  });
  function apply() {
    var n = 0, rows = table.tBodies[0].rows;
    Array.prototype.forEach.call(rows, function (r) {
      var show = !filter.value || r.getAttribute("data-verdict") === filter.value;
      r.hidden = !show;
      if (show) n++;
    });
    shown.textContent = n + " of " + rows.length + " shown";
  }
  filter.addEventListener("change", apply);
  apply();
})();
