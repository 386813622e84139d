// Draws the quality charts from the JSON the page embeds, with Chart.js from npm.
// Without the library (not installed) the tables below the charts still say everything.
(function () {
  "use strict";

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function draw(canvasId, config) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || typeof window.Chart === "undefined") {
      if (canvas) { canvas.closest("figure").hidden = true; }
      return;
    }
    canvas.dataset.drawn = "true";
    new window.Chart(canvas, config);
  }

  function trends() {
    var data = read("q-trend-data");
    if (!data) { return; }
    draw("q-trend-chart", {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: data.names.contacts, data: data.contacts, yAxisID: "count",
            backgroundColor: "rgba(29, 78, 216, 0.35)" },
          { type: "line", label: data.names.service_level, data: data.service_level, yAxisID: "share",
            borderColor: "#059669", spanGaps: true },
          { type: "line", label: data.names.csat, data: data.csat, yAxisID: "share",
            borderColor: "#d97706", spanGaps: true },
          { type: "line", label: data.names.resolution_rate, data: data.resolution_rate, yAxisID: "share",
            borderColor: "#7c3aed", spanGaps: true }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          count: { type: "linear", position: "left", beginAtZero: true },
          share: { type: "linear", position: "right", min: 0, max: 100,
                   ticks: { callback: function (v) { return v + "%"; } },
                   grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  function plan() {
    var data = read("q-plan-data");
    if (!data) { return; }
    draw("q-plan-chart", {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: data.names.agents, data: data.agents, yAxisID: "agents",
            backgroundColor: "rgba(5, 150, 105, 0.45)" },
          { type: "line", label: data.names.contacts, data: data.contacts, yAxisID: "contacts",
            borderColor: "#1d4ed8" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          agents: { type: "linear", position: "left", beginAtZero: true },
          contacts: { type: "linear", position: "right", beginAtZero: true,
                      grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { trends(); plan(); });
}());
