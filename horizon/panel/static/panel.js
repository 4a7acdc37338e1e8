// Horizon panel: figures refreshed in place every 15 s, and the fleet table's sorting and
// filtering. No framework, no inline code: the Content-Security-Policy allows neither.
"use strict";
(function () {
  var REFRESH_MS = 15000;
  var body = document.body;
  var source = body.getAttribute("data-refresh");
  var status = document.getElementById("refreshed");

  function text(node, value) {
    if (node && value !== undefined && value !== null && node.textContent !== String(value)) {
      node.textContent = String(value);
    }
  }

  function toLogin() {
    var here = location.pathname + location.search;
    location.assign("/login?next=" + encodeURIComponent(here));
  }

  function cell(row, value, label) {
    var td = document.createElement("td");
    if (label) td.setAttribute("data-label", label);
    if (value && typeof value === "object") {
      if (value.className) td.className = value.className;
      if (value.href) {
        var link = document.createElement("a");
        link.href = value.href;
        link.textContent = value.text;
        td.appendChild(link);
      } else {
        td.textContent = value.text;
      }
    } else {
      td.textContent = value === null || value === undefined ? "–" : String(value);
    }
    row.appendChild(td);
  }

  // Tables whose rows the JSON carries: {"cells": [text | {text, href, className}], "data": {...}}.
  function fillTable(tbody, rows) {
    var table = tbody.closest("table");
    var labels = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    var fresh = document.createDocumentFragment();
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      var data = row.data || {};
      Object.keys(data).forEach(function (key) { tr.setAttribute("data-" + key, data[key]); });
      (row.cells || row).forEach(function (value, i) { cell(tr, value, labels[i]); });
      fresh.appendChild(tr);
    });
    tbody.replaceChildren(fresh);
    var empty = document.querySelector('[data-empty="' + tbody.getAttribute("data-table") + '"]');
    if (empty) empty.hidden = rows.length > 0;
  }

  function updateFleet(clients) {
    var tbody = document.querySelector("#fleet tbody");
    if (!tbody) return;
    var known = {};
    Array.prototype.forEach.call(tbody.rows, function (tr) { known[tr.getAttribute("data-client")] = tr; });
    var ids = clients.map(function (c) { return c.client; });
    if (ids.length !== tbody.rows.length || ids.some(function (id) { return !known[id]; })) {
      location.reload();  // a client was added or removed: its row is the server's to draw
      return;
    }
    clients.forEach(function (c) {
      var tr = known[c.client];
      tr.setAttribute("data-problems", c.problems);
      tr.title = c.problem_list.join("; ");
      tr.setAttribute("data-sync", c.sync);
      Object.keys(c.display).forEach(function (col) {
        var td = tr.querySelector('[data-col="' + col + '"]');
        if (!td || col === "name" || col === "burn") return;
        text(td, c.display[col]);
      });
      var sync = tr.querySelector('[data-col="sync"]');
      sync.setAttribute("data-status", c.sync);
      sync.setAttribute("data-fields", c.sync_fields.join(","));
      tr.querySelector('[data-col="sender"]').setAttribute("data-status", c.sender_status || "");
      var values = { today: c.messages_today, p95: c.p95_ms_24h, cost: c.cost_usd, burn: c.budget_used, failures: c.failures_24h };
      Object.keys(values).forEach(function (col) {
        var v = values[col];
        tr.querySelector('[data-col="' + col + '"]').setAttribute("data-value", v === null || v === undefined ? "" : v);
      });
      var meter = tr.querySelector("meter");
      if (meter && c.budget_used !== null) meter.value = Math.min(c.budget_used, 1);
      text(tr.querySelector(".burn-text"), c.display.burn + " of " + c.display.budget);
    });
    text(document.getElementById("client-count"), clients.length + " clients");
    applySort();
    applyFilter();
  }

  function apply(data) {
    var fields = data.fields || {};
    Object.keys(fields).forEach(function (name) {
      document.querySelectorAll('[data-field="' + name + '"]').forEach(function (node) { text(node, fields[name]); });
    });
    var tables = data.tables || {};
    Object.keys(tables).forEach(function (name) {
      var tbody = document.querySelector('tbody[data-table="' + name + '"]');
      if (tbody) fillTable(tbody, tables[name]);
    });
    if (data.clients) updateFleet(data.clients);
    document.dispatchEvent(new CustomEvent("horizon:data", { detail: data }));
  }

  function refresh() {
    var url = source + (source.indexOf("?") < 0 ? location.search : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) { toLogin(); return null; }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (!data) return;
        apply(data);
        if (status) {
          status.setAttribute("data-state", "ok");
          status.textContent = "Refreshed " + new Date().toISOString().slice(11, 19) + " UTC; figures refresh every 15 s.";
        }
      })
      .catch(function (error) {
        if (status) {
          status.setAttribute("data-state", "error");
          status.textContent = "Refresh failed (" + error.message + "); retrying in 15 s.";
        }
      });
  }

  // Sorting: a click on a column head sorts by it, again reverses; the server's order (the
  // problems first) is where it starts.
  var sortKey = null, sortDir = 1;
  function sortValue(tr, th) {
    var td = tr.querySelector('[data-col="' + th.getAttribute("data-sort") + '"]');
    if (!td) return "";
    if (th.getAttribute("data-type") === "number") {
      var raw = td.getAttribute("data-value");
      return raw === "" || raw === null ? -Infinity : parseFloat(raw);
    }
    return td.textContent.trim().toLowerCase();
  }
  function applySort() {
    var table = document.getElementById("fleet");
    if (!table || !sortKey) return;
    var th = table.querySelector('th[data-sort="' + sortKey + '"]');
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    rows.sort(function (a, b) {
      var x = sortValue(a, th), y = sortValue(b, th);
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
    });
    rows.forEach(function (tr) { table.tBodies[0].appendChild(tr); });
  }
  function applyFilter() {
    var input = document.getElementById("fleet-filter");
    var table = document.getElementById("fleet");
    if (!input || !table) return;
    var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
      var hay = tr.textContent.toLowerCase() + " " + (tr.getAttribute("data-sync") || "").toLowerCase();
      var match = words.every(function (w) { return hay.indexOf(w) >= 0; });
      tr.hidden = !match;
      if (match) shown += 1;
    });
    var empty = document.getElementById("fleet-empty");
    if (empty) empty.hidden = shown > 0;
  }
  function setUpFleet() {
    var table = document.getElementById("fleet");
    if (!table) return;
    table.querySelectorAll("th[data-sort]").forEach(function (th) {
      th.tabIndex = 0;
      function sort() {
        var key = th.getAttribute("data-sort");
        sortDir = key === sortKey ? -sortDir : 1;
        sortKey = key;
        table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
        applySort();
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    var input = document.getElementById("fleet-filter");
    if (input) input.addEventListener("input", applyFilter);
  }

  setUpFleet();
  if (source) {
    // After every deferred script (charts.js listens for the data) has run.
    if (body.hasAttribute("data-refresh-now")) document.addEventListener("DOMContentLoaded", refresh);
    setInterval(refresh, REFRESH_MS);
  }
  window.horizonPanel = { refresh: refresh };
})();
