// tally dashboard: fetches the JSON API and draws KPI cards, tables and charts (uPlot,
// pinned and served by this server). Every section whose route is missing (404) shows
// "not available"; the filters live in the page URL; figures link to their events.
"use strict";

const API = "/api/analytics/";
const REFRESH_MS = 30000;
const state = { sort: {}, expanded: {}, zoom: {} };
const FILTERS = ["project", "from", "to"];
// Kept in the URL and nav links like FILTERS, but sent only to the routes that take them (compare.js).
const PAGE_FILTERS = ["compare"];
const TOP_ROWS = 10;

// ---- the API key: ?key= on the page is kept in sessionStorage and sent as Bearer ----
(function takeKeyFromUrl() {
  const url = new URL(window.location.href);
  const key = url.searchParams.get("key");
  if (key) {
    sessionStorage.setItem("tally_key", key);
    url.searchParams.delete("key");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
})();

function headers() {
  const key = sessionStorage.getItem("tally_key");
  return key ? { Authorization: "Bearer " + key } : {};
}

// ---- filters: in the inputs, the page URL and the nav links, so a view is a shareable link ----
function filterParams(withPage = false) {
  const params = new URLSearchParams();
  for (const name of withPage ? FILTERS.concat(PAGE_FILTERS) : FILTERS) {
    const input = document.getElementById("f-" + name);
    const value = input ? input.value.trim() : "";
    if (value) params.set(name, value);
  }
  return params;
}

function filterQuery() {
  const text = filterParams().toString();
  return text ? "?" + text : "";
}

// Writes the filters (and the page's own parameters in `own`) into the URL and every nav link.
function keepFilters(own = {}) {
  const params = new URLSearchParams(window.location.search);
  for (const name of FILTERS.concat(PAGE_FILTERS)) params.delete(name);
  for (const [name, value] of filterParams(true)) params.set(name, value);
  for (const [name, value] of Object.entries(own)) {
    if (value) params.set(name, value); else params.delete(name);
  }
  const text = params.toString();
  history.replaceState(null, "", window.location.pathname + (text ? "?" + text : ""));
  for (const a of document.querySelectorAll("[data-nav]")) a.setAttribute("href", a.dataset.base + (filterParams(true).toString() ? "?" + filterParams(true) : ""));
}

// The events behind a figure: the page's filters narrowed by `narrow` (see /analytics/events).
function eventsHref(narrow = {}) {
  const params = filterParams();
  for (const [name, value] of Object.entries(narrow)) {
    if (value !== null && value !== undefined && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return "/analytics/events" + (text ? "?" + text : "");
}

// Resolves to {ok, status, data} and never rejects.
async function api(name, withFilter = true) {
  try {
    const response = await fetch(API + name + (withFilter ? comparedQuery(name, filterQuery()) : ""), { headers: headers() });
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: { error: { message: String(error) } } };
  }
}

// ---- formatting: money with 2 decimals (per-event costs 4, the same in a column), thousands separated ----
const NO_DATA = "no data";
const missing = (n) => n === null || n === undefined || Number.isNaN(Number(n));
const fmtInt = (n) => (missing(n) ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 0 }));
const fmtUsd = (n, digits = 2) => (missing(n) ? "–" : (Number(n) < 0 ? "−$" : "$") + Math.abs(Number(n)).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const fmtPct = (ratio, digits = 1) => (missing(ratio) ? "–" : (Number(ratio) * 100).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) + "%");
// A value the API names in snake_case, in plain words.
const words = (name) => (missing(name) || name === "" ? "–" : String(name).replace(/_/g, " "));
const fmtSec = (n) => (missing(n) ? "–" : Number(n).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + " s");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function setKpi(id, value, text) {
  const node = document.getElementById(id);
  if (!node) return;
  node.dataset.value = String(value);
  node.textContent = text;
  node.classList.toggle("long", text.length > 9);
}

function notAvailable(container, result) {
  destroyChart(container);
  container.replaceChildren();
  let message = "not available";
  const error = result && result.data && result.data.error;
  // A 404 of a known route is about the question (an unknown project), not the server.
  if (error && error.code !== "route_not_found") message = "not available: " + error.message;
  else if (result && result.status === 404) message = "not available on this server";
  container.append(el("div", { class: "na" }, message));
}

function banner(text) {
  const node = document.getElementById("banner");
  if (text) { node.textContent = text; node.hidden = false; } else { node.hidden = true; }
}

// ---- firing alerts, shown on every page (hidden when none, or without alerts access) ----
const ALERT_UNITS = {
  budget: "share", projected_budget: "share", qa_failure_rate: "share", failure_rate: "share",
  request_error_rate: "share", request_p95: "ms", agent_saturation: "hours", silence: "minutes",
  cost_spike: "score", token_spike: "score",
};

function alertFigure(kind, value) {
  if (value === null || value === undefined) return NO_DATA;
  switch (ALERT_UNITS[kind]) {
    case "share": return fmtPct(value);
    case "ms": return fmtInt(value) + " ms";
    case "hours": return Number(value).toFixed(1) + " h";
    case "minutes": return fmtInt(value) + " min";
    default: return Number(value).toFixed(1);
  }
}

async function loadFiring() {
  const node = document.getElementById("alerts-firing");
  let rules = null;
  try {
    const response = await fetch("/api/alerts/firing", { headers: headers() });
    if (response.ok) rules = await response.json();
  } catch (_) { rules = null; }
  if (!Array.isArray(rules) || rules.length === 0) { node.hidden = true; node.replaceChildren(); return; }
  const list = el("ul");
  for (const rule of rules) {
    const scope = [rule.project, rule.model, rule.tool, rule.agent].filter(Boolean).join(" · ");
    const since = rule.state && rule.state.since ? new Date(rule.state.since).toLocaleString() : "";
    const value = rule.state ? rule.state.last_value : null;
    list.append(el("li", { class: rule.severity || "warning", "data-rule": rule.name },
      rule.name + (scope ? " (" + scope + ")" : "") + ": " + alertFigure(rule.rule, value) +
      " against " + alertFigure(rule.rule, rule.threshold) + (since ? ", firing since " + since : "")));
  }
  node.replaceChildren(el("strong", {}, rules.length === 1 ? "1 alert firing" : rules.length + " alerts firing"), list);
  node.hidden = false;
}

function passRateClass(rate) {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return "none";
  return rate >= 0.8 ? "green" : rate >= 0.5 ? "yellow" : "red";
}

// ---- overview ----
function renderSummary(s) {
  setKpi("kpi-total-runs", s.total_runs, fmtInt(s.total_runs));
  setKpi("kpi-runs-2loop", s.runs_2loop, fmtInt(s.runs_2loop));
  setKpi("kpi-runs-3loop", s.runs_3loop, fmtInt(s.runs_3loop));
  setKpi("kpi-total-tokens", s.total_tokens, fmtInt(s.total_tokens));
  setKpi("kpi-total-cost", s.total_cost, fmtUsd(s.total_cost));
  // An average or rate of nothing is "n/a", never a 0 that reads like a finding.
  const runs = s.total_runs > 0;
  setKpi("kpi-avg-cost-per-run", runs ? s.avg_cost_per_run : null, runs ? fmtUsd(s.avg_cost_per_run) : NO_DATA);
  setKpi("kpi-avg-duration", runs ? s.avg_duration_seconds : null, runs ? fmtSec(s.avg_duration_seconds) : NO_DATA);
  const qa = s.qa_summary;
  const judged = qa.total_qa_runs > 0;
  setKpi("kpi-qa-pass-rate", judged ? qa.pass_rate : null, judged ? fmtPct(qa.pass_rate) : NO_DATA);
  setKpi("kpi-qa-passed", qa.qa_passed, fmtInt(qa.qa_passed));
  setKpi("kpi-total-qa-runs", qa.total_qa_runs, fmtInt(qa.total_qa_runs));
  setKpi("kpi-total-jobs", s.total_jobs, fmtInt(s.total_jobs));
  setKpi("kpi-jobs-completed", s.jobs_completed, fmtInt(s.jobs_completed));
  setKpi("kpi-jobs-failed", s.jobs_failed, fmtInt(s.jobs_failed));
  showKpiChanges(s);
}

function renderQa(qa) {
  setKpi("qa-passed", qa.qa_passed, fmtInt(qa.qa_passed));
  setKpi("qa-warning", qa.qa_warning, fmtInt(qa.qa_warning));
  setKpi("qa-failed", qa.qa_failed, fmtInt(qa.qa_failed));
  setKpi("qa-not-run", qa.qa_not_run, fmtInt(qa.qa_not_run));
}

function renderBudget(budget, monthCost) {
  const text = document.getElementById("budget-text");
  const remaining = document.getElementById("budget-remaining");
  const fill = document.getElementById("budget-fill");
  if (budget === null || budget === undefined) {
    text.textContent = "No monthly budget set (analytics.monthly_budget in tally.toml) · this month " + fmtUsd(monthCost);
    remaining.textContent = "";
    fill.style.width = "0";
    return;
  }
  const ratio = budget > 0 ? monthCost / budget : 1;
  text.textContent = fmtUsd(monthCost) + " of " + fmtUsd(budget) + " this month (" + fmtPct(ratio) + ")";
  remaining.textContent = fmtUsd(budget - monthCost) + " remaining";
  fill.style.width = Math.min(100, ratio * 100).toFixed(1) + "%";
  fill.className = "bar-fill" + (ratio >= 0.9 ? " red" : ratio >= 0.7 ? " yellow" : "");
  fill.dataset.ratio = ratio.toFixed(4);
}

// ---- charts (uPlot): legend values on hover, drag to zoom, double-click to reset, click for events ----
const CHART_HEIGHT = 220;
const charts = new Map();
const COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];

const epoch = (text) => Date.parse(String(text).length === 10 ? text + "T00:00:00Z" : text) / 1000;
const isoDay = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);

// A figure in a chart's units; `digits` as the axis step needs them, else the unit's own.
function fmtUnit(unit, v, digits) {
  if (missing(v)) return "–";
  switch (unit) {
    case "usd": return fmtUsd(v, digits ?? 2);
    case "ratio": return fmtPct(v, Math.max(0, (digits ?? 3) - 2));
    case "ms": return fmtInt(v) + " ms";
    case "score": return Number(v).toFixed(digits ?? 2);
    default: return Number(v).toLocaleString("en-US", { minimumFractionDigits: digits ?? 0, maximumFractionDigits: digits ?? 0 });
  }
}

// Round ticks labelled with as many decimals as the step between them needs.
function axisValues(unit) {
  return (u, splits) => {
    const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1;
    const digits = step >= 1 || step === 0 ? 0 : Math.min(4, Math.ceil(-Math.log10(step) - 1e-9));
    return splits.map((v) => fmtUnit(unit, v, unit === "usd" && digits > 0 ? Math.max(2, digits) : digits));
  };
}

function destroyChart(container) {
  const drawn = charts.get(container.id);
  if (drawn) { drawn.observer.disconnect(); drawn.plot.destroy(); charts.delete(container.id); }
}

function noData(container, message = "no data in this range") {
  destroyChart(container);
  delete container.dataset.chart;
  container.replaceChildren(el("div", { class: "na" }, message));
}

// Navigates to the events of the clicked point (`href(index)`), unless the click was the
// end of a drag (zoom) or the first of a double-click (reset).
function clickThrough(plot, href) {
  let down = null, pending = null;
  plot.over.classList.add("clickable");
  plot.over.addEventListener("mousedown", (e) => { down = [e.clientX, e.clientY]; });
  plot.over.addEventListener("click", (e) => {
    const dragged = down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 3;
    down = null;
    const index = plot.cursor.idx;
    if (dragged || index === null || index === undefined) return;
    const target = href(index);
    if (!target) return;
    clearTimeout(pending);
    pending = setTimeout(() => window.location.assign(target), 250);
  });
  plot.over.addEventListener("dblclick", () => clearTimeout(pending));
}

// One time chart. series: [{label, values, color, unit?, line?, dots?, dash?, fill?}]; x: epoch seconds.
function timeChart(container, { x, series, unit, bands, href, yRange }) {
  destroyChart(container);
  container.replaceChildren();
  const css = getComputedStyle(document.documentElement);
  const muted = css.getPropertyValue("--muted").trim() || "#6b7285";
  const grid = css.getPropertyValue("--line").trim() || "#e4e6ef";
  const width = () => Math.max(240, Math.floor(container.clientWidth));
  const opts = {
    width: width(),
    height: CHART_HEIGHT,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    padding: [12, 28, 0, 4],
    cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 7 } },
    legend: { live: true },
    scales: { x: { time: true }, y: yRange ? { range: yRange } : {} },
    axes: [
      { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, space: 70 },
      { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 72,
        values: axisValues(unit), incrs: unit === "count" || unit === "ms" ? COUNT_INCRS : undefined },
    ],
    series: [{ label: "day", value: (u, v) => (v === null || v === undefined ? "–" : isoDay(v)) }].concat(series.map((s) => ({
      label: s.label,
      stroke: s.color,
      width: s.dots ? 0 : 2,
      dash: s.dash,
      fill: s.fill,
      spanGaps: false,
      paths: s.dots ? () => null : undefined,
      points: s.dots ? { show: true, size: s.size || 6, fill: s.color, stroke: s.outline || s.color, width: 1 } : { show: false },
      value: (u, v) => fmtUnit(s.unit || unit, v),
    }))),
    bands: bands || [],
    // A zoomed range survives the 30 s refresh; a double-click (full range) forgets it.
    hooks: { setScale: [(u, key) => {
      if (key !== "x" || !x.length) return;
      const full = u.scales.x.min <= x[0] && u.scales.x.max >= x[x.length - 1];
      state.zoom[container.id] = full ? null : { min: u.scales.x.min, max: u.scales.x.max };
      container.dataset.zoomed = String(!full);
    }] },
  };
  const zoomed = state.zoom[container.id];
  const plot = new uPlot(opts, [x].concat(series.map((s) => s.values)), container);
  if (zoomed) plot.setScale("x", zoomed);
  const observer = new ResizeObserver(() => {
    const w = width();
    if (w !== plot.width) plot.setSize({ width: w, height: CHART_HEIGHT });
  });
  observer.observe(container);
  charts.set(container.id, { plot, observer });
  if (href) clickThrough(plot, (index) => href(x[index], index));
  container.dataset.chart = "uplot";
  container.dataset.series = series.map((s) => s.key || s.label).join(" ");
  container.dataset.points = String(x.length);
  return plot;
}

// A daily series, or "no data" when the range recorded nothing.
function dailyChart(container, days, field, label, color, unit, narrow) {
  if (!days.length || days.every((d) => !Number(d[field]))) { noData(container); return; }
  timeChart(container, {
    x: days.map((d) => epoch(d.date)),
    unit,
    series: [{ key: field, label, values: days.map((d) => Number(d[field])), color, fill: color + "22" }],
    href: (at) => eventsHref(Object.assign({ from: isoDay(at), to: isoDay(at) }, narrow)),
  });
}

function renderTimeseries(data) {
  const daily = (data && data.daily) || [];
  dailyChart(document.getElementById("chart-cost"), daily, "cost", "cost", "#6d4aff", "usd", {});
  dailyChart(document.getElementById("chart-runs"), daily, "runs", "runs", "#16a34a", "count", { kind: "run" });
}

// A sortable table: the top rows, and the rest behind "show all".
// columns: [{key, title, num, render(row) -> Node|string, sort(row)}];
// drill(row) -> the filters of the row's events: its first cell links there, and so does a click on the row.
function table(container, rows, columns, id, drill) {
  container.replaceChildren();
  if (!Array.isArray(rows) || !rows.length) { container.append(el("div", { class: "na" }, "no data in this range")); return; }
  const sort = state.sort[id] || { key: null, asc: false };
  const sorted = rows.slice();
  if (sort.key) {
    const column = columns.find((c) => c.key === sort.key);
    const value = column.sort || ((r) => r[column.key]);
    sorted.sort((a, b) => {
      const va = value(a), vb = value(b);
      const cmp = typeof va === "number" && typeof vb === "number" ? va - vb : String(va ?? "").localeCompare(String(vb ?? ""));
      return sort.asc ? cmp : -cmp;
    });
  }
  const head = el("tr");
  for (const c of columns) {
    const th = el("th", { class: (c.num ? "num " : "") + (sort.key === c.key ? "sorted" + (sort.asc ? " asc" : "") : "") }, c.title);
    th.addEventListener("click", () => {
      state.sort[id] = { key: c.key, asc: sort.key === c.key ? !sort.asc : false };
      table(container, rows, columns, id, drill);
    });
    head.append(th);
  }
  const body = el("tbody");
  const expanded = Boolean(state.expanded[id]);
  sorted.forEach((r, i) => {
    const tr = el("tr");
    const href = drill ? eventsHref(drill(r)) : null;
    columns.forEach((c, at) => {
      let content = c.render ? c.render(r) : r[c.key] ?? "–";
      if (href && at === 0) content = el("a", { href, class: "drill", title: "the events behind this row" }, content);
      tr.append(el("td", { class: c.num ? "num" : "" }, content));
    });
    if (href) {
      tr.classList.add("drill-row");
      tr.dataset.href = href;
      tr.addEventListener("click", (event) => {
        if (!event.target.closest("a, button, select, input")) window.location.assign(href);
      });
    }
    if (i >= TOP_ROWS && !expanded) tr.hidden = true;
    body.append(tr);
  });
  container.append(el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), body)));
  if (sorted.length > TOP_ROWS) {
    const toggle = el("button", { type: "button", class: "show-all", "data-table": id },
      expanded ? "show the top " + TOP_ROWS : "show all " + fmtInt(sorted.length));
    toggle.addEventListener("click", () => {
      state.expanded[id] = !expanded;
      table(container, rows, columns, id, drill);
    });
    container.append(toggle);
  }
}

function rateBadge(rate) {
  return el("span", { class: "rate " + passRateClass(rate) }, missing(rate) ? NO_DATA : fmtPct(rate));
}

function projectPassRate(p) {
  const judged = p.qa_passed + p.qa_warning + p.qa_failed;
  return judged > 0 ? p.qa_passed / judged : null;
}

function renderProjects(rows) {
  table(document.getElementById("projects"), rows, [
    { key: "project_name", title: "Project" },
    { key: "runs_count", title: "Runs", num: true, render: (p) => fmtInt(p.runs_count) },
    { key: "last_run_time", title: "Last Run", render: (p) => (p.last_run_time || "–").replace("T", " ").slice(0, 19) },
    { key: "total_tokens", title: "Total Tokens", num: true, render: (p) => fmtInt(p.total_tokens) },
    { key: "total_cost", title: "Total Cost", num: true, render: (p) => fmtUsd(p.total_cost) },
    { key: "avg_duration_seconds", title: "Avg Duration", num: true, render: (p) => fmtSec(p.avg_duration_seconds) },
    { key: "pass_rate", title: "QA Pass Rate", num: true, render: (p) => rateBadge(projectPassRate(p)), sort: (p) => projectPassRate(p) ?? -1 },
    ...changeColumns(rows, [["runs_count", "Runs"], ["total_cost", "Cost"]]),
  ], "projects", (p) => ({ project: p.project_name }));
}

function renderModels(rows) {
  const total = rows.reduce((sum, m) => sum + Number(m.total_cost || 0), 0);
  const share = (m) => (m.cost_share !== undefined ? Number(m.cost_share) : total > 0 ? m.total_cost / total : 0);
  table(document.getElementById("models"), rows, [
    { key: "model_name", title: "Model" },
    { key: "total_tokens", title: "Total Tokens", num: true, render: (m) => fmtInt(m.total_tokens) },
    { key: "total_cost", title: "Total Cost", num: true, render: (m) => fmtUsd(m.total_cost) },
    { key: "usage_count", title: "Usage Count", num: true, render: (m) => fmtInt(m.usage_count) },
    { key: "cost_share", title: "Cost Share", num: true, sort: share, render: (m) => {
      const bar = el("span", { class: "share" });
      bar.style.width = Math.round(share(m) * 80) + "px";
      return el("span", {}, bar, fmtPct(share(m)));
    } },
    ...changeColumns(rows, [["total_cost", "Cost"]]),
  ], "models", (m) => ({ model: m.model_name }));
}

// ---- forecast and anomalies: the series, its forecast band, flagged points ----
function seriesQuery(metric, extra) {
  const params = new URLSearchParams(filterQuery().slice(1));
  params.set("metric", metric);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return "?" + params.toString();
}

// What each series metric counts: its unit and the events behind one of its points.
const METRICS = {
  cost: { unit: "usd", narrow: {} },
  executions: { unit: "count", narrow: { kind: "execution" } },
  success_rate: { unit: "ratio", narrow: { kind: "execution" } },
  error_rate: { unit: "ratio", narrow: { kind: "execution", success: "false" } },
  p95_latency: { unit: "ms", narrow: { kind: "execution" } },
  tokens: { unit: "count", narrow: {} },
};

// The events of the period starting at `timestamp` (a day, or the hour of an hourly series).
function periodNarrow(metric, timestamp, stepSeconds) {
  const start = epoch(timestamp);
  const narrow = stepSeconds && stepSeconds < 86400
    ? { from: new Date(start * 1000).toISOString().replace(".000", ""), to: new Date((start + stepSeconds - 1) * 1000).toISOString().replace(".000", "") }
    : { from: isoDay(start), to: isoDay(start) };
  return Object.assign(narrow, (METRICS[metric] || { narrow: {} }).narrow);
}

// The series, its forecast with the 95 % band, and the anomalies marked.
function forecastChart(container, metric, history, forecast, flagged, step) {
  const known = history.filter((p) => p.value !== null && p.value !== undefined);
  if (!known.length) { noData(container); return; }
  const { unit } = METRICS[metric] || { unit: "count" };
  const n = history.length;
  const x = history.map((p) => epoch(p.timestamp)).concat(forecast.map((p) => epoch(p.timestamp)));
  const blank = (count) => new Array(count).fill(null);
  const last = history[n - 1].value ?? known[known.length - 1].value;
  const marks = blank(x.length);
  const index = new Map(history.map((p, i) => [p.timestamp, i]));
  for (const f of flagged) {
    const i = index.get(f.timestamp);
    if (i !== undefined) marks[i] = f.value;
  }
  const series = [{ key: "history", label: metric.replace(/_/g, " "), values: history.map((p) => p.value).concat(blank(forecast.length)), color: "#6d4aff" }];
  const bands = [];
  if (forecast.length) {
    series.push(
      { key: "forecast", label: "forecast", values: blank(n - 1).concat([last], forecast.map((p) => p.value)), color: "#0ea5e9", dash: [5, 4] },
      { key: "upper", label: "upper 95 %", values: blank(n - 1).concat([last], forecast.map((p) => p.upper)), color: "rgba(14,165,233,0.35)" },
      { key: "lower", label: "lower 95 %", values: blank(n - 1).concat([last], forecast.map((p) => p.lower)), color: "rgba(14,165,233,0.35)" },
    );
    // uPlot counts the x values as series 0: the band lies between "upper" (3) and "lower" (4).
    bands.push({ series: [3, 4], fill: "rgba(14,165,233,0.15)" });
    container.dataset.band = "true";
  } else {
    delete container.dataset.band;
  }
  series.push({ key: "anomalies", label: "anomaly", values: marks, color: "#dc2626", outline: "#ffffff", dots: true, size: 10 });
  timeChart(container, {
    x, unit, series, bands,
    href: (at, i) => (i < n ? eventsHref(periodNarrow(metric, history[i].timestamp, step)) : null),
  });
  container.dataset.anomalies = String(marks.filter((v) => v !== null).length);
}

async function loadSeries() {
  const select = document.getElementById("series-metric");
  const chart = document.getElementById("chart-forecast");
  if (!select || !chart) return;
  const metric = select.value;
  const [forecast, anomalies, trend] = await Promise.all([
    api("forecast" + seriesQuery(metric, { horizon: 14 }), false),
    api("anomalies" + seriesQuery(metric, {}), false),
    api("trends" + seriesQuery(metric, {}), false),
  ]);
  const source = forecast.ok ? forecast : anomalies;
  const step = trend.ok ? trend.data.step_seconds : null;
  if (!source.ok) notAvailable(chart, source);
  else {
    forecastChart(chart, metric, source.data.series || [], forecast.ok ? forecast.data.points : [],
      anomalies.ok ? anomalies.data.anomalies : [], step);
  }
  const text = document.getElementById("series-trend");
  const why = (result) => result.data?.error?.message || "not available";
  if (trend.ok) {
    const t = trend.data;
    const model = forecast.ok ? ` · forecast: ${forecast.data.model_label}, MASE ${missing(forecast.data.mase) ? "–" : Number(forecast.data.mase).toFixed(2)}`
      : ` · no forecast: ${why(forecast)}`;
    text.textContent = `${t.summary} (Mann-Kendall p ${Number(t.mk_p_value).toFixed(3)})${model}`;
  } else {
    text.textContent = "no trend: " + why(trend) + (forecast.ok ? "" : " · no forecast: " + why(forecast));
  }
  const { unit } = METRICS[metric] || { unit: "count" };
    const list = document.getElementById("series-insights");
  const found = anomalies.ok ? anomalies.data.anomalies : [];
  list.replaceChildren(
    ...found.map((a) => el("li", { class: "anomaly-item" },
      el("a", { href: eventsHref(periodNarrow(metric, a.timestamp, step)), class: "drill", "data-anomaly": a.timestamp },
        String(a.timestamp).slice(0, 16).replace("T00:00", "").replace("T", " ")),
      ": " + fmtUnit(unit, a.value) + ", expected " + fmtUnit(unit, a.expected) + " (usual " + fmtUnit(unit, a.lower) +
      " to " + fmtUnit(unit, a.upper) + "; " + String(a.severity).replace(/_/g, " ") + " severity)")),
    ...(anomalies.ok ? anomalies.data.insights : []).map((i) => el("li", {}, i.message)));
}

async function section(name, render, fallback, withFilter = true) {
  const result = await api(name, withFilter);
  const container = document.getElementById(name);
  if (result.ok) { render(result.data); return result; }
  if (fallback) { fallback(result); return result; }
  if (container) notAvailable(container, result);
  return result;
}

// ---- first run: an empty database gets a getting-started panel instead of zeros ----
async function databaseIsEmpty() {
  const summary = await api("summary", false);
  if (!summary.ok) return false;
  const s = summary.data;
  const counted = [s.total_runs, s.total_jobs, s.total_executions, s.total_tokens, s.total_cost, s.qa_summary && s.qa_summary.total_qa_runs];
  if (counted.some((n) => Number(n) > 0)) return false;
  const [projects, learners] = await Promise.all([api("projects", false), api("learning/learners", false)]);
  return projects.ok && Array.isArray(projects.data) && projects.data.length === 0 &&
    !(learners.ok && learners.data && Array.isArray(learners.data.learners) && learners.data.learners.length > 0);
}

function gettingStarted(show) {
  const main = document.querySelector("main");
  let panel = document.getElementById("getting-started");
  main.classList.toggle("empty", show);
  if (!show) { if (panel) panel.remove(); return; }
  if (panel) return;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const event = JSON.stringify({ kind: "execution", project: "my-app", ts: now, tool: "search", duration_ms: 120, success: true });
  const curl = "curl -s " + window.location.origin + "/api/analytics/events \\\n  -H 'Content-Type: application/x-ndjson' \\\n  --data-binary '" + event + "'";
  panel = el("section", { class: "panel getting-started", id: "getting-started" },
    el("h2", {}, "No events yet"),
    el("p", {}, "This database holds no telemetry, so there is nothing to count. Send one event over HTTP:"),
    el("pre", { "data-example": "curl" }, curl),
    el("p", {}, "or fill a database with a month of realistic demo data of every kind, then serve it:"),
    el("pre", { "data-example": "demo" }, "tally demo\ntally serve"),
    el("p", {}, "Every kind of record and its fields: ", el("a", { href: "/analytics/docs/events" }, "the event wire format"),
      ". With API keys, add -H 'Authorization: Bearer KEY' (a key with the ingest scope)."));
  main.prepend(panel);
}

async function loadOverview() {
  const summary = await api("summary");
  if (!summary.ok) {
    if (summary.status === 401 || summary.status === 403) {
      banner("This server needs an API key with read access: open /analytics?key=YOUR_KEY. (" + (summary.data?.error?.message || summary.status) + ")");
    } else {
      banner("The summary could not be loaded: " + (summary.data?.error?.message || "no answer"));
    }
    return;
  }
  banner(null);
  renderSummary(summary.data);
  await Promise.all([
    section("qa", renderQa, () => renderQa(summary.data.qa_summary)),
    section("budget", (b) => renderBudget(b.monthly_budget ?? null, b.current_month_cost ?? summary.data.current_month_cost),
      () => renderBudget(summary.data.monthly_budget, summary.data.current_month_cost)),
    section("timeseries", renderTimeseries, (r) => {
      notAvailable(document.getElementById("chart-cost"), r);
      notAvailable(document.getElementById("chart-runs"), r);
    }),
    section("projects", renderProjects),
    section("models", renderModels),
    loadSeries(),
  ]);
}

function confidenceBadge(level) {
  return el("span", { class: "rate " + ({ HIGH: "green", MEDIUM: "yellow", LOW: "red" }[level] || "none") }, level ? String(level).toLowerCase() : "–");
}

const fmtMs = (v) => (v === null || v === undefined ? "–" : v >= 1000 ? (v / 1000).toFixed(1) + " s" : Math.round(v) + " ms");

function renderTools(rows) {
  table(document.getElementById("tools"), rows, [
    { key: "tool_name", title: "Tool" },
    { key: "total_executions", title: "Executions", num: true, render: (t) => fmtInt(t.total_executions) },
    { key: "success_rate", title: "Success", num: true, render: (t) => rateBadge(t.success_rate) },
    { key: "success_rate_lower_95", title: "95 % interval", num: true,
      render: (t) => fmtPct(t.success_rate_lower_95) + " – " + fmtPct(t.success_rate_upper_95) },
    { key: "confidence_level", title: "Confidence", render: (t) => confidenceBadge(t.confidence_level),
      sort: (t) => ({ HIGH: 3, MEDIUM: 2, LOW: 1 }[t.confidence_level] || 0) },
    { key: "p50_duration_ms", title: "p50", num: true, render: (t) => fmtMs(t.p50_duration_ms) },
    { key: "p95_duration_ms", title: "p95", num: true, render: (t) => fmtMs(t.p95_duration_ms) },
    { key: "avg_cost", title: "Avg Cost", num: true, render: (t) => fmtUsd(t.avg_cost, 4) },
    { key: "risks", title: "Risks", num: true, sort: (t) => t.risk_patterns.length, render: (t) => fmtInt(t.risk_patterns.length) },
    ...changeColumns(rows, [["total_executions", "Executions"], ["success_rate", "Success"]]),
  ], "tools", (t) => ({ kind: "execution", tool: t.tool_name }));
}

function renderRisks(rows) {
  table(document.getElementById("risks"), rows, [
    { key: "tool_name", title: "Tool" },
    { key: "facet", title: "Where", render: (r) => r.facet.replace(/_/g, " ") + ": " + r.value },
    { key: "failures", title: "Failures", num: true, render: (r) => fmtInt(r.failures) + " / " + fmtInt(r.executions) },
    { key: "failure_rate", title: "Failure rate", num: true, render: (r) => fmtPct(r.failure_rate) },
    { key: "lift", title: "Lift", num: true, sort: (r) => r.lift ?? 0, render: (r) => (r.lift === null ? "–" : r.lift.toFixed(1) + "×") },
    { key: "share_of_failures", title: "Share of failures", num: true, render: (r) => fmtPct(r.share_of_failures) },
  ], "risks", (r) => ({ kind: "execution", tool: r.tool_name, success: "false" }));
}

function renderRecommendations(rows) {
  const advice = { use: "green", use_with_review: "yellow", avoid: "red" };
  table(document.getElementById("recommendations"), rows, [
    { key: "tool_name", title: "Tool" },
    { key: "recommendation", title: "Advice", render: (r) => el("span", { class: "rate " + (advice[r.recommendation] || "none") }, r.recommendation.replace(/_/g, " ")) },
    { key: "reason", title: "Why", render: (r) => el("span", { class: "reason" }, r.reason) },
  ], "recommendations", (r) => ({ kind: "execution", tool: r.tool_name }));
}

function renderAgents(rows) {
  const status = (a, key) => (a.status ? a.status[key] : null);
  const condition = { saturated: "red", busy: "yellow", active: "green", idle: "none", unknown: "none" };
  table(document.getElementById("agents"), rows, [
    { key: "agent_id", title: "Agent" },
    { key: "condition", title: "State", render: (a) => el("span", { class: "rate " + (condition[a.condition] || "none") }, a.condition) },
    { key: "project", title: "Project", sort: (a) => status(a, "project") || "", render: (a) => status(a, "project") || "–" },
    { key: "tasks", title: "Active / capacity", num: true, sort: (a) => status(a, "utilisation") ?? -1,
      render: (a) => (a.status ? a.status.active_tasks + " / " + a.status.capacity + " (" + fmtPct(a.status.utilisation) + ")" : "–") },
    { key: "queued", title: "Queued", num: true, sort: (a) => status(a, "queued_tasks") ?? -1, render: (a) => (a.status ? fmtInt(a.status.queued_tasks) : "–") },
    { key: "cpu", title: "CPU / mem", num: true, sort: (a) => status(a, "cpu_pct") ?? -1,
      render: (a) => (a.status && a.status.cpu_pct !== null ? Math.round(a.status.cpu_pct) + " % / " + Math.round(a.status.mem_pct ?? 0) + " %" : "–") },
    { key: "executions", title: "Executions", num: true, render: (a) => fmtInt(a.executions) },
    { key: "success_rate", title: "Success", num: true, render: (a) => (a.executions ? rateBadge(a.success_rate) : "–") },
    { key: "last_seen", title: "Last status", sort: (a) => status(a, "ts") || "", render: (a) => (status(a, "ts") || "–").replace("T", " ").slice(0, 19) },
    ...changeColumns(rows, [["executions", "Executions"], ["success_rate", "Success"]]),
  ], "agents", (a) => ({ agent: a.agent_id }));
}

function renderCapacity(data) {
  table(document.getElementById("capacity"), data.agents, [
    { key: "agent_id", title: "Agent" },
    { key: "current_utilisation", title: "Now", num: true, render: (a) => fmtPct(a.current_utilisation) },
    { key: "avg_utilisation", title: "Average (" + data.window_hours + " h)", num: true, render: (a) => fmtPct(a.avg_utilisation) },
    { key: "peak_active", title: "Peak active", num: true, render: (a) => fmtInt(a.peak_active) + " / " + fmtInt(a.capacity) },
    { key: "utilisation_trend_per_hour", title: "Trend / h", num: true,
      render: (a) => { const pt = a.utilisation_trend_per_hour * 100; return Math.abs(pt) < 0.05 ? "0.0 pt" : (pt > 0 ? "+" : "") + pt.toFixed(1) + " pt"; } },
    { key: "hours_to_saturation", title: "Saturates in", num: true, sort: (a) => a.hours_to_saturation ?? Infinity,
      render: (a) => (a.hours_to_saturation === null ? "–" : a.hours_to_saturation.toFixed(1) + " h") },
    { key: "bottleneck", title: "Bottleneck", render: (a) => (a.bottleneck ? el("span", { class: "rate red" }, a.reasons.join("; ")) : "no") },
  ], "capacity", (a) => ({ agent: a.agent_id }));
}

async function loadTools() {
  await Promise.all([
    section("tools", renderTools),
    section("risks", renderRisks),
    section("recommendations", renderRecommendations),
  ]);
}

async function loadAgents() {
  await Promise.all([
    section("agents", renderAgents),
    section("capacity", renderCapacity),
  ]);
}

const fmtNum = (v, digits = 4) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));

function verdictBadge(verdict) {
  const color = { win: "green", loss: "red", inconclusive: "yellow", not_enough_data: "none" }[verdict] || "none";
  return el("span", { class: "rate " + color }, String(verdict).replace(/_/g, " "));
}

function renderAnalysis(analysis) {
  const srm = analysis.srm;
  const users = srm.variants.map((v) => v.variant + " " + fmtInt(v.users) + " (expected " + fmtInt(v.expected) + ")").join(", ");
  const rows = analysis.metrics.flatMap((m) => m.comparisons.map((c) => {
    const figures = (name) => m.variants.find((v) => v.variant === name) || {};
    const kind = { binary: "yes/no rate", continuous: "measured value" }[m.kind] || String(m.kind || "–").replace(/_/g, " ");
    return { metric: m.metric + (m.lower_is_better ? " ↓" : ""), kind, c, control: figures(c.baseline), treatment: figures(c.variant) };
  }));
  const container = el("div");
  table(container, rows, [
    { key: "metric", title: "Metric" },
    { key: "kind", title: "Kind" },
    { key: "variant", title: "Variant", render: (r) => r.c.variant + " vs " + r.c.baseline, sort: (r) => r.c.variant },
    { key: "n", title: "Users", num: true, render: (r) => fmtInt(r.treatment.n ?? 0) + " / " + fmtInt(r.control.n ?? 0), sort: (r) => r.treatment.n },
    { key: "means", title: "Mean", num: true, render: (r) => fmtNum(r.treatment.mean) + " / " + fmtNum(r.control.mean), sort: (r) => r.treatment.mean },
    { key: "diff", title: "Difference [95 % CI]", num: true, render: (r) => fmtNum(r.c.diff) + " [" + fmtNum(r.c.ci_low) + ", " + fmtNum(r.c.ci_high) + "]", sort: (r) => r.c.diff },
    { key: "lift", title: "Lift [95 % CI]", num: true, render: (r) => (r.c.rel_lift === null ? "–" : fmtPct(r.c.rel_lift) + " [" + fmtPct(r.c.rel_ci_low) + ", " + fmtPct(r.c.rel_ci_high) + "]"), sort: (r) => r.c.rel_lift },
    { key: "p", title: "p (Holm)", num: true, render: (r) => fmtNum(r.c.p_adjusted), sort: (r) => r.c.p_adjusted },
    { key: "verdict", title: "Verdict", render: (r) => verdictBadge(r.c.verdict), sort: (r) => r.c.verdict },
  ], "analysis-" + analysis.experiment);
  const assignment = analysis.assignment || {};
  return el("section", { class: "panel", "data-experiment": analysis.experiment },
    el("div", { class: "panel-head" }, el("h2", {}, analysis.experiment),
      el("span", { class: "muted" }, [experimentStatus(analysis.status), analysis.control ? "baseline: the “" + analysis.control + "” variant" : null,
        fmtInt(assignment.outcomes ?? 0) + " outcomes, " + fmtInt(assignment.mismatched ?? 0) + " mismatched with the assignment"].filter(Boolean).join(" · "))),
    el("p", {}, el("span", { class: "rate " + (srm.mismatch ? "red" : "green") }, srm.mismatch ? "sample ratio mismatch" : "split ok"),
      " χ² " + fmtNum(srm.chi2, 3) + ", p " + fmtNum(srm.p_value) + " · " + users),
    container);
}

// An experiment's status in plain words.
function experimentStatus(status) {
  if (missing(status) || status === "undefined") return "not defined (found in outcome events)";
  return { scheduled: "scheduled", running: "running", stopped: "stopped" }[status] || String(status).replace(/_/g, " ");
}

async function loadExperiments() {
  const list = await section("experiments", (rows) => table(document.getElementById("experiments"), rows, [
    { key: "key", title: "Experiment" },
    { key: "status", title: "Status", render: (r) => experimentStatus(r.status) },
    { key: "variants", title: "Variants", render: (r) => (r.variants || []).map((v) => v.name + " " + fmtPct(v.weight)).join(", ") || "–" },
    { key: "coverage", title: "Coverage", num: true, render: (r) => fmtPct(r.coverage) },
    { key: "primary_metric", title: "Primary metric", render: (r) => r.primary_metric || "–" },
    { key: "hypothesis", title: "Hypothesis", render: (r) => r.hypothesis || "–" },
  ], "experiments"), null, false);
  const holder = document.getElementById("experiment-analyses");
  if (!list.ok || !Array.isArray(list.data)) { holder.replaceChildren(); return; }
  const analyses = await Promise.all(list.data.map((e) => api("experiments/" + encodeURIComponent(e.key) + "/analysis")));
  holder.replaceChildren(...analyses.map((result, i) => result.ok
    ? renderAnalysis(result.data)
    : el("section", { class: "panel" }, el("h2", {}, list.data[i].key), el("div", { class: "na" }, result.data?.error?.message || "not available"))));
}

async function loadLearners() {
  const select = document.getElementById("learner");
  const list = await api("learning/learners", false);
  const names = list.ok ? list.data.learners : [];
  const wanted = new URLSearchParams(window.location.search).get("user") || select.value || names[0];
  select.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
  if (!names.length) {
    document.getElementById("learner-streak").replaceChildren(el("div", { class: "na" }, "no learners yet: send session events"));
    return;
  }
  select.value = names.includes(wanted) ? wanted : names[0];
  const user = encodeURIComponent(select.value);
  const result = await api("learning/users/" + user + "/dashboard", false);
  const ids = ["learner-streak", "learner-heatmap", "learner-quality", "learner-goals", "learner-achievements", "learner-progress", "learner-mastery", "learner-topics"];
  if (!result.ok) { for (const id of ids) notAvailable(document.getElementById(id), result); return; }
  const d = result.data;
  const s = d.streak;
  document.getElementById("learner-streak").replaceChildren(el("p", { "data-streak": String(s.current_days) },
    "current streak " + s.current_days + " days · longest " + s.longest_days + " days · last active " + (s.last_active_date || "never") + (s.at_risk ? " · at risk" : "") +
    " · " + fmtInt(d.overall.sessions) + " sessions, " + fmtInt(d.overall.minutes) + " minutes in all"));
  heatmap(document.getElementById("learner-heatmap"), d.heatmap);
  qualityChart(document.getElementById("learner-quality"), d.quality_trend);
  table(document.getElementById("learner-goals"), d.goals, [
    { key: "title", title: "Goal" },
    { key: "kind", title: "Type", render: (r) => words(r.kind) },
    { key: "percent", title: "Progress", render: (g) => el("progress", { max: "100", value: String(g.percent) }, fmtInt(g.percent) + "%") },
    { key: "value", title: "Value", num: true, render: (g) => fmtInt(g.value) + " / " + fmtInt(g.target) },
    { key: "status", title: "Status", render: (r) => words(r.status) },
  ], "learner-goals");
  table(document.getElementById("learner-achievements"), d.achievements.achievements, [
    { key: "name", title: "Achievement" },
    { key: "category", title: "Category", render: (r) => words(r.category) },
    { key: "points", title: "Points", num: true },
    { key: "rarity", title: "Rarity", render: (a) => a.rarity || "–" },
    { key: "unlocked_at", title: "Unlocked", render: (a) => a.unlocked_at.slice(0, 10) },
  ], "learner-achievements");
  table(document.getElementById("learner-progress"), d.weekly, [
    { key: "label", title: "Week" },
    { key: "sessions", title: "Sessions", num: true },
    { key: "exchanges", title: "Exchanges", num: true },
    { key: "minutes", title: "Minutes", num: true, render: (p) => fmtInt(p.minutes) },
    { key: "average_quality", title: "Quality", num: true, render: (p) => p.average_quality == null ? "–" : Number(p.average_quality).toFixed(2) },
  ], "learner-progress");
  table(document.getElementById("learner-mastery"), d.topics, [
    { key: "topic", title: "Topic" },
    { key: "score", title: "Score", num: true, render: (t) => Number(t.score).toFixed(2) },
    { key: "level", title: "Level", render: (r) => words(r.level) },
    { key: "interactions", title: "Sessions", num: true },
    { key: "share", title: "Share", num: true, render: (t) => fmtPct(t.share) },
  ], "learner-mastery");
  topicBars(document.getElementById("learner-topics"), d.topics);
  await loadLearningExtras(select.value);
}

// GitHub-style activity grid: one column per ISO week, one row per weekday.
function heatmap(container, days) {
  container.replaceChildren();
  if (!days.length) { container.append(el("div", { class: "na" }, "no data")); return; }
  const ns = "http://www.w3.org/2000/svg";
  const cell = 14, gap = 3, left = 30, top = 16;
  const weeks = Math.max(...days.map((x) => x.week)) + 1;
  const svg = document.createElementNS(ns, "svg");
  const width = left + weeks * (cell + gap), height = top + 7 * (cell + gap);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width * 1.6));
  svg.setAttribute("height", String(height * 1.6));
  const make = (tag, attrs) => { const n = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); return n; };
  ["Mon", "", "Wed", "", "Fri", "", "Sun"].forEach((name, i) => {
    if (!name) return;
    const label = make("text", { x: 0, y: top + i * (cell + gap) + cell - 3 });
    label.textContent = name;
    svg.append(label);
  });
  for (const x of days) {
    if (x.weekday === 0 && (x.week % 4 === 0)) {
      const label = make("text", { x: left + x.week * (cell + gap), y: 10 });
      label.textContent = x.date.slice(5);
      svg.append(label);
    }
    const rect = make("rect", { x: left + x.week * (cell + gap), y: top + x.weekday * (cell + gap), width: cell, height: cell, rx: 2, class: "l" + x.level, "data-date": x.date, "data-sessions": x.sessions });
    const title = make("title", {});
    title.textContent = x.date + ": " + x.sessions + " sessions, " + fmtInt(x.minutes) + " minutes";
    rect.append(title);
    // A day's cell opens the sessions of that day (with the page's project).
    const link = make("a", { href: eventsHref({ kind: "session", from: x.date, to: x.date }), "data-drill": x.date });
    link.append(rect);
    svg.append(link);
  }
  container.append(svg);
}

// Daily average quality as dots, its 7-day rolling average as a line, on a 0..1 axis.
function qualityChart(container, points) {
  if (!points.some((p) => p.rolling_average != null)) { noData(container, "no rated sessions in these weeks"); return; }
  timeChart(container, {
    x: points.map((p) => epoch(p.date)),
    unit: "score",
    yRange: [0, 1],
    series: [
      { key: "rolling", label: "7-day average", values: points.map((p) => p.rolling_average ?? null), color: "#6d4aff" },
      { key: "daily", label: "daily average", values: points.map((p) => p.average_quality ?? null), color: "#0ea5e9", dots: true, size: 6 },
    ],
    href: (at) => eventsHref({ kind: "session", from: isoDay(at), to: isoDay(at) }),
  });
}

function topicBars(container, topics) {
  container.replaceChildren();
  if (!topics.length) { container.append(el("div", { class: "na" }, "no topics yet")); return; }
  const sorted = topics.slice().sort((a, b) => b.share - a.share);
  for (const t of sorted) {
    const bar = el("span", {});
    bar.style.width = (Number(t.share) * 100).toFixed(1) + "%";
    container.append(el("div", { class: "topic-bar", "data-topic": t.topic }, el("span", {}, t.topic), el("div", { class: "bar" }, bar), el("span", { class: "num" }, fmtPct(t.share))));
  }
}

// ---- traces: the recent list and a waterfall of one trace ----
function renderTraces(rows) {
  table(document.getElementById("traces"), rows, [
    { key: "root_name", title: "Root span", render: (t) => {
      const link = el("a", { href: "?trace=" + t.trace_id, "data-trace": t.trace_id }, t.root_name);
      link.addEventListener("click", (event) => { event.preventDefault(); showTrace(t.trace_id); });
      return link;
    } },
    { key: "project", title: "Project" },
    { key: "start", title: "Start", render: (t) => t.start.replace("T", " ").slice(0, 19) },
    { key: "duration_ms", title: "Duration", num: true, render: (t) => fmtMs(t.duration_ms) },
    { key: "spans", title: "Spans", num: true, render: (t) => fmtInt(t.spans) },
    { key: "tokens", title: "Tokens", num: true, sort: (t) => t.input_tokens + t.output_tokens,
      render: (t) => fmtInt(t.input_tokens + t.output_tokens) },
    { key: "cost_usd", title: "Cost", num: true, render: (t) => fmtUsd(t.cost_usd, 4) },
    { key: "status", title: "Status", render: (t) => el("span", { class: "rate " + (t.status === "ok" ? "green" : "red") }, t.status) },
    { key: "events", title: "Events", render: (t) => el("a", { href: eventsHref({ trace: t.trace_id }), class: "drill" }, "events") },
  ], "traces");
  state.trace = state.trace || new URLSearchParams(window.location.search).get("trace") || (rows[0] && rows[0].trace_id);
}

// One bar per span, indented by depth, placed by its offset and duration in the trace.
async function showTrace(id) {
  state.trace = id;
  const container = document.getElementById("waterfall");
  const result = await api("traces/" + encodeURIComponent(id));
  if (!result.ok) { notAvailable(container, result); return; }
  const trace = result.data;
  document.getElementById("trace-title").textContent = "Trace: " + trace.root_name;
  document.getElementById("trace-meta").textContent = [trace.trace_id, fmtMs(trace.duration_ms),
    fmtInt(trace.spans) + " spans", fmtUsd(trace.cost_usd, 4)].join(" · ");
  const rows = [];
  const walk = (span, depth) => { rows.push([span, depth]); for (const child of span.children) walk(child, depth + 1); };
  for (const root of trace.roots) walk(root, 0);
  const total = Math.max(Number(trace.duration_ms), 1);
  container.replaceChildren(...rows.map(([span, depth]) => {
    const bar = el("div", { class: "wf-bar " + (span.success ? (span.span_kind || "") : "failed") });
    bar.style.left = Math.min(100, (100 * span.offset_ms) / total) + "%";
    bar.style.width = Math.max(0.4, (100 * span.duration_ms) / total) + "%";
    const label = el("div", { class: "wf-label", title: span.name }, span.name);
    label.style.paddingLeft = depth * 16 + "px";
    const tokens = span.input_tokens !== null || span.output_tokens !== null
      ? fmtInt((span.input_tokens || 0) + (span.output_tokens || 0)) + " tokens" : null;
    const detail = [fmtMs(span.duration_ms), span.span_kind, span.model, tokens, span.error].filter(Boolean).join(" · ");
    return el("div", { class: "wf-row", "data-span": span.span_id }, label,
      el("div", { class: "wf-track" }, bar), el("div", { class: "wf-detail muted" }, detail));
  }));
}

async function loadTraces() {
  const list = await section("traces", renderTraces);
  if (list.ok && state.trace) await showTrace(state.trace);
}

// `kind`: json or csv, or a path under the API with its format (`export/sections?format=xlsx`).
async function download(kind) {
  const path = kind.includes("/") ? kind : "export/" + kind;
  const filters = filterQuery();
  const url = API + path + (path.includes("?") && filters ? "&" + filters.slice(1) : filters);
  const response = await fetch(url, { headers: headers() });
  if (!response.ok) {
    let message = response.status;
    try { message = (await response.json()).error.message; } catch (_) { /* keep the status */ }
    banner("Export failed: " + message);
    return;
  }
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || "tally-analytics." + kind;
  const link = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}

// The project input's suggestions: every project, whatever the filters, on every page.
async function loadProjectList() {
  const projects = await api("projects", false);
  if (!projects.ok || !Array.isArray(projects.data)) return;
  document.getElementById("project-list")
    .replaceChildren(...projects.data.map((p) => el("option", { value: p.project_name })));
}

// Pages whose script is loaded after this one (events.js, dashboards.js) add their
// loader here.
const pageLoaders = {};

async function refresh() {
  const page = document.body.dataset.page;
  await Promise.all([loadFiring(), loadProjectList()]);
  const empty = page !== "docs" && await databaseIsEmpty();
  gettingStarted(empty);
  if (empty || page === "docs") { /* nothing to load */ }
  else if (page === "tools") await loadTools();
  else if (page === "agents") await loadAgents();
  else if (page === "experiments") await loadExperiments();
  else if (page === "learners") await loadLearners();
  else if (page === "traces") await loadTraces();
  else if (pageLoaders[page]) await pageLoaders[page]();
  else await loadOverview();
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  document.body.dataset.loaded = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.dataset.base = a.getAttribute("href");
    a.classList.toggle("active", a.dataset.nav === page);
  }
  // The filters come back from the URL, and every nav link carries them on.
  const params = new URLSearchParams(window.location.search);
  for (const name of FILTERS.concat(PAGE_FILTERS)) {
    if (params.get(name) && document.getElementById("f-" + name)) document.getElementById("f-" + name).value = params.get(name);
  }
  keepFilters();
  document.getElementById("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    state.zoom = {};
    // New filters start again from the first page of a paged view.
    keepFilters({ cursor: "" });
    refresh();
  });
  const ex = (id, kind) => { const b = document.getElementById(id); if (b) b.addEventListener("click", () => download(kind)); };
  ex("export-json", "json");
  ex("export-csv", "csv");
  const chosen = document.getElementById("export-chosen");
  if (chosen) chosen.addEventListener("click", () => download(document.getElementById("export-format").value));
  const learner = document.getElementById("learner");
  if (learner) learner.addEventListener("change", () => {
    keepFilters({ user: learner.value });
    loadLearners();
  });
  const metric = document.getElementById("series-metric");
  if (metric) metric.addEventListener("change", () => { state.zoom["chart-forecast"] = null; loadSeries(); });
  // The poll is the fallback of the live updates (live.js): it runs while their stream is down.
  setInterval(() => {
    if (document.getElementById("f-refresh").checked && !(window.tallyLive && window.tallyLive.connected)) refresh();
  }, REFRESH_MS);
  refresh();
});
