// tally dashboard: period comparisons. The "Compare" selector (kept in the URL as
// ?compare=) asks the comparable routes for compare=previous|wow|mom; KPI cards then show
// each figure's change (arrow and %), green when better for the figure, red when worse,
// grey for volumes; tables get change columns. Loaded after dashboard.js.
"use strict";

// The routes that take compare= (docs/http.md, "Comparisons").
const COMPARABLE = ["summary", "projects", "models", "tools", "agents", "qa", "requests"];
// The pages that show comparisons.
const COMPARE_PAGES = ["overview", "tools", "agents"];
// KPI card → the summary figure it shows.
const KPI_FIGURES = {
  "kpi-total-runs": "total_runs",
  "kpi-total-tokens": "total_tokens",
  "kpi-total-cost": "total_cost",
  "kpi-avg-duration": "avg_duration_seconds",
  "kpi-qa-pass-rate": "qa_summary.pass_rate",
  "kpi-total-jobs": "total_jobs",
};

function compareChoice() {
  const select = document.getElementById("f-compare");
  const from = document.getElementById("f-from");
  if (!select || !select.value || !COMPARE_PAGES.includes(document.body.dataset.page)) return "";
  // A comparison needs a start; without one the selector says so and nothing is compared.
  return from && from.value.trim() ? select.value : "";
}

// The query of route `name`: the filters, and compare= when chosen and the route takes it.
function comparedQuery(name, query) {
  const compare = compareChoice();
  if (!compare || !COMPARABLE.includes(name)) return query;
  return (query ? query + "&" : "?") + "compare=" + encodeURIComponent(compare);
}

// The relative change as text: "+12.5%", or what stands in for it.
function changeText(change) {
  if (!change) return "no comparison";
  if (change.status === "no_data") return "no data";
  if (change.status === "no_previous_data") return "no data before";
  if (change.status === "no_current_data") return "no data now";
  if (change.relative_change === null) return change.change === 0 ? "0%" : "new (was 0)";
  const pct = change.relative_change * 100;
  return (pct > 0 ? "+" : pct < 0 ? "−" : "") + Math.abs(pct).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + "%";
}

// A change as a node: arrow, relative change, colored by its outlook for the figure.
function deltaNode(change, figure) {
  const arrow = !change || !change.direction ? "" : { rising: "▲ ", falling: "▼ ", flat: "＝ " }[change.direction];
  const outlook = change && change.outlook ? change.outlook : "neutral";
  const node = el("span", { class: "delta " + outlook, "data-figure": figure, "data-status": change ? change.status : "none" }, arrow + changeText(change));
  if (change) {
    node.dataset.relative = change.relative_change === null ? "" : String(change.relative_change);
    node.title = "previous: " + (change.previous === null ? "no data" : change.previous);
  }
  return node;
}

// Writes each KPI card's change under its value (and removes it when nothing is compared).
function showKpiChanges(summary) {
  const comparison = summary && summary.comparison;
  const periods = document.getElementById("compare-periods");
  for (const [id, figure] of Object.entries(KPI_FIGURES)) {
    const value = document.getElementById(id);
    if (!value) continue;
    const card = value.closest(".card");
    for (const old of card.querySelectorAll(".delta")) old.remove();
    if (comparison) value.after(el("div", { class: "kpi-delta" }, deltaNode(comparison.figures[figure], figure)));
  }
  for (const old of document.querySelectorAll(".kpi-delta:empty")) old.remove();
  if (periods) {
    const day = (t) => String(t).replace("T00:00:00Z", "").replace("T", " ").replace("Z", "");
    periods.textContent = comparison
      ? "compared with " + day(comparison.previous_range.from) + " – " + day(comparison.previous_range.to) + " (" + comparison.mode + ")"
      : "";
  }
}

// Table columns of the changes of `figures` ([field, title]), when the rows carry a comparison.
function changeColumns(rows, figures) {
  if (!Array.isArray(rows) || !rows.some((r) => r.comparison)) return [];
  return figures.map(([figure, title]) => ({
    key: "change_" + figure,
    title: "Δ " + title,
    num: true,
    sort: (r) => (r.comparison && r.comparison.figures[figure] ? r.comparison.figures[figure].relative_change ?? -Infinity : -Infinity),
    render: (r) => deltaNode(r.comparison ? r.comparison.figures[figure] : null, figure),
  }));
}

document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("f-compare");
  if (!select) return;
  const label = select.closest("label");
  const shown = COMPARE_PAGES.includes(document.body.dataset.page);
  label.hidden = !shown;
  if (!shown) { select.value = ""; return; }
  const hint = () => {
    const from = document.getElementById("f-from");
    const needsFrom = Boolean(select.value) && !(from && from.value.trim());
    select.title = needsFrom ? "a comparison needs a From date" : "";
    label.classList.toggle("needs-from", needsFrom);
  };
  hint();
  select.addEventListener("change", () => {
    hint();
    keepFilters();
    refresh();
  });
  document.getElementById("f-from").addEventListener("change", hint);
});
