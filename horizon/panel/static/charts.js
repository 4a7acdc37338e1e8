// The client page's charts, drawn by the vendored Chart.js from the JSON the page polls.
"use strict";
(function () {
  var charts = {};
  var palette = { inbound: "#2452b5", outbound: "#1f7a3d", p50: "#2452b5", p95: "#a15c00", cost: "#2452b5", budget: "#b3261e" };

  // `offset` keeps the first and last day's points clear of the chart's edges; `counts`
  // puts whole numbers only on an axis of messages.
  function axes(yTitle, xTitle, counts) {
    return {
      x: { offset: true, title: { display: true, text: xTitle } },
      y: { beginAtZero: true, ticks: counts ? { precision: 0 } : {}, title: { display: true, text: yTitle } }
    };
  }

  function options(yTitle, xTitle, counts) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      // Legend swatches drawn as each dataset's point style: a dashed line shows as a line.
      plugins: { legend: { display: true, position: "bottom", labels: { usePointStyle: true, boxHeight: 7 } } },
      scales: axes(yTitle, xTitle, counts)
    };
  }

  function line(label, data, color, dashed) {
    return { label: label, data: data, borderColor: color, backgroundColor: color, borderDash: dashed ? [6, 4] : [], pointStyle: dashed ? "line" : "circle", pointRadius: dashed ? 0 : 3, spanGaps: true, tension: 0.2 };
  }

  function seconds(ms) { return ms === null || ms === undefined ? null : ms / 1000; }

  function specs(series) {
    var days = series.days || [], month = series.month || [];
    var dayLabels = days.map(function (d) { return d.date.slice(5); });
    var monthLabels = month.map(function (d) { return d.date.slice(5); });
    var budget = series.budget_usd;
    var cost = [line("Cost to date (USD)", month.map(function (d) { return d.cumulative_usd; }), palette.cost, false)];
    if (budget !== null && budget !== undefined) {
      cost.push(line("Monthly budget (USD)", month.map(function () { return budget; }), palette.budget, true));
    }
    return {
      messages: {
        type: "bar",
        data: { labels: dayLabels, datasets: [
          { label: "Inbound", data: days.map(function (d) { return d.inbound; }), backgroundColor: palette.inbound, pointStyle: "rect" },
          { label: "Outbound", data: days.map(function (d) { return d.outbound; }), backgroundColor: palette.outbound, pointStyle: "rect" }
        ] },
        options: options("messages per day", "day (UTC, MM-DD)", true)
      },
      latency: {
        type: "line",
        data: { labels: dayLabels, datasets: [
          line("p50 (s)", days.map(function (d) { return seconds(d.p50_ms); }), palette.p50, false),
          line("p95 (s)", days.map(function (d) { return seconds(d.p95_ms); }), palette.p95, false)
        ] },
        options: options("reply latency (seconds)", "day (UTC, MM-DD)")
      },
      cost: {
        type: "line",
        data: { labels: monthLabels, datasets: cost },
        options: options("US dollars", "day of the month (UTC, MM-DD)")
      }
    };
  }

  function draw(series) {
    if (!window.Chart || !series) return;
    var all = specs(series);
    Object.keys(all).forEach(function (name) {
      var canvas = document.querySelector('canvas[data-chart="' + name + '"]');
      if (!canvas) return;
      if (charts[name]) {
        charts[name].data = all[name].data;
        charts[name].update("none");
      } else {
        charts[name] = new window.Chart(canvas, all[name]);
      }
      canvas.setAttribute("data-drawn", "true");
    });
  }

  document.addEventListener("horizon:data", function (event) { draw(event.detail.series); });
})();
