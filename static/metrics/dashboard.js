/* Draws the dashboard's charts with Chart.js from the figures the server put in #kpi-chart-data. */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("kpi-chart-data").textContent);
  const style = getComputedStyle(document.documentElement);
  const text = style.getPropertyValue("--body-fg").trim() || "#333";
  Chart.defaults.color = text;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function line(id, datasets, options) {
    return new Chart(document.getElementById(id), {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      options: Object.assign({ spanGaps: true, scales: { y: { beginAtZero: true } } }, options || {}),
    });
  }
  const pct = { scales: { y: { beginAtZero: true, suggestedMax: 100 } } };

  line("chart-lead-time", [
    { label: "mean", data: data.lead_mean, borderColor: "#1565c0", backgroundColor: "#1565c0" },
    { label: "p90", data: data.lead_p90, borderColor: "#ef6c00", backgroundColor: "#ef6c00" },
  ]);
  line("chart-on-time", [{ label: "on time %", data: data.on_time, borderColor: "#2e7d32", backgroundColor: "#2e7d32" }], pct);
  line("chart-accuracy", [{ label: "accuracy %", data: data.accuracy, borderColor: "#6a1b9a", backgroundColor: "#6a1b9a" }], pct);
  line("chart-return-rate", [{ label: "return rate %", data: data.return_rate, borderColor: "#c62828", backgroundColor: "#c62828" }]);

  new Chart(document.getElementById("chart-reasons"), {
    type: "bar",
    data: { labels: data.reasons.labels, datasets: [{ label: "units", data: data.reasons.units, backgroundColor: "#00838f" }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  new Chart(document.getElementById("chart-stages"), {
    type: "bar",
    data: {
      labels: data.stages.labels,
      datasets: [
        { label: "mean", data: data.stages.mean, backgroundColor: "#1565c0" },
        { label: "p90", data: data.stages.p90, backgroundColor: "#ef6c00" },
      ],
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true } } },
  });
  document.getElementById("kpi-dashboard").dataset.chartsReady = "true";
})();
