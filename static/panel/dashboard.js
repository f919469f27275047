// Draws the dashboard charts from the data the page embeds (#gp-charts). The tables under each
// chart are the same numbers; they stay open when JavaScript (or this script) does not run.
(function () {
  const source = document.getElementById("gp-charts");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const css = getComputedStyle(document.documentElement);
  const text = css.getPropertyValue("--body-fg").trim() || "#333";
  const grid = css.getPropertyValue("--hairline-color").trim() || "#ddd";
  const palette = ["#417690", "#e0a526", "#5b9a68", "#ba2121", "#7a5aa6", "#2f8d9c", "#c2622d"];
  Chart.defaults.color = text;
  Chart.defaults.borderColor = grid;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, config);
    canvas.dataset.drawn = "true";
    const details = canvas.closest(".gp-card").querySelector("details");
    if (details) details.open = false;
  }

  const a = data.activity;
  draw("chart-activity", {
    type: "line",
    data: {
      labels: a.labels,
      datasets: [
        { label: "DAU", data: a.dau, borderColor: palette[0], backgroundColor: palette[0], tension: 0.2 },
        { label: "MAU (30 d)", data: a.mau, borderColor: palette[1], backgroundColor: palette[1], tension: 0.2 },
        { label: "New players", data: a.new_players, borderColor: palette[2], backgroundColor: palette[2], tension: 0.2 },
      ],
    },
    options: { interaction: { mode: "index", intersect: false }, scales: { y: { beginAtZero: true } } },
  });

  const r = data.revenue;
  draw("chart-revenue", {
    type: "bar",
    data: {
      labels: r.labels,
      datasets: r.series.map((s, i) => ({ label: s.currency, data: s.values, backgroundColor: palette[i % palette.length] })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });

  const e = data.economy;
  draw("chart-economy", {
    type: "bar",
    data: {
      labels: e.labels,
      datasets: [
        { label: "Sources (created)", data: e.sources, backgroundColor: palette[2] },
        { label: "Sinks (spent)", data: e.sinks, backgroundColor: palette[3] },
      ],
    },
    options: { scales: { y: { beginAtZero: true } } },
  });

  const o = data.offers;
  draw("chart-offers", {
    type: "bar",
    data: { labels: o.labels, datasets: [{ label: "Purchases", data: o.purchases, backgroundColor: palette[0] }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } },
  });
})();
