// tally dashboard: fetches the JSON API and draws KPI cards, tables and SVG charts.
// No libraries; every section whose route is missing (404) shows "not available".
"use strict";

const API = "/api/analytics/";
const REFRESH_MS = 30000;
const state = { sort: {} };

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

function filterQuery() {
  const params = new URLSearchParams();
  for (const name of ["project", "from", "to"]) {
    const value = document.getElementById("f-" + name).value.trim();
    if (value) params.set(name, value);
  }
  const text = params.toString();
  return text ? "?" + text : "";
}

// Resolves to {ok, status, data} and never rejects.
async function api(name, withFilter = true) {
  try {
    const response = await fetch(API + name + (withFilter ? filterQuery() : ""), { headers: headers() });
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: { error: { message: String(error) } } };
  }
}

// ---- formatting ----
const fmtInt = (n) => Number(n).toLocaleString("en-US", { maximumFractionDigits: 0 });
const fmtUsd = (n, digits = 2) => "$" + Number(n).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtPct = (ratio) => (Number(ratio) * 100).toFixed(1) + "%";
const fmtSec = (n) => Number(n).toFixed(1) + " s";
const NO_DATA = "n/a";

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
  setKpi("kpi-avg-cost-per-run", runs ? s.avg_cost_per_run : null, runs ? fmtUsd(s.avg_cost_per_run, 4) : NO_DATA);
  setKpi("kpi-avg-duration", runs ? s.avg_duration_seconds : null, runs ? fmtSec(s.avg_duration_seconds) : NO_DATA);
  const qa = s.qa_summary;
  const judged = qa.total_qa_runs > 0;
  setKpi("kpi-qa-pass-rate", judged ? qa.pass_rate : null, judged ? fmtPct(qa.pass_rate) : NO_DATA);
  setKpi("kpi-qa-passed", qa.qa_passed, fmtInt(qa.qa_passed));
  setKpi("kpi-total-qa-runs", qa.total_qa_runs, fmtInt(qa.total_qa_runs));
  setKpi("kpi-total-jobs", s.total_jobs, fmtInt(s.total_jobs));
  setKpi("kpi-jobs-completed", s.jobs_completed, fmtInt(s.jobs_completed));
  setKpi("kpi-jobs-failed", s.jobs_failed, fmtInt(s.jobs_failed));
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

// A line chart with a soft area under it, drawn as SVG.
function lineChart(container, points, color, format) {
  container.replaceChildren();
  if (!points.length) { container.append(el("div", { class: "na" }, "no data in this range")); return; }
  const ns = "http://www.w3.org/2000/svg";
  const W = 600, H = 220, L = 56, R = 12, T = 12, B = 26;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const make = (tag, attrs) => { const n = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); return n; };
  const max = Math.max(...points.map((p) => p.value), 0) || 1;
  const x = (i) => L + (points.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (points.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const gradientId = "g" + container.id;
  const defs = make("defs", {});
  const gradient = make("linearGradient", { id: gradientId, x1: 0, y1: 0, x2: 0, y2: 1 });
  gradient.append(make("stop", { offset: "0%", "stop-color": color, "stop-opacity": 0.35 }));
  gradient.append(make("stop", { offset: "100%", "stop-color": color, "stop-opacity": 0.02 }));
  defs.append(gradient);
  svg.append(defs);
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    svg.append(make("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "axis" }));
    const label = make("text", { x: L - 6, y: y(v) + 3, "text-anchor": "end" });
    label.textContent = format(v);
    svg.append(label);
  }
  const step = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((p, i) => {
    if (!labelled(i, points.length, step)) return;
    const label = make("text", { x: x(i), y: H - 8, "text-anchor": "middle" });
    label.textContent = p.label;
    svg.append(label);
  });
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const area = `${line} L${x(points.length - 1).toFixed(1)},${y(0)} L${x(0).toFixed(1)},${y(0)} Z`;
  svg.append(make("path", { d: area, fill: `url(#${gradientId})`, stroke: "none" }));
  svg.append(make("path", { d: line, fill: "none", stroke: color, "stroke-width": 2.2, "vector-effect": "non-scaling-stroke" }));
  container.append(svg);
}

// Every step-th x label, and the last one when it does not crowd the one before.
function labelled(i, count, step) {
  if (i % step === 0) return true;
  return i === count - 1 && (count - 1) % step >= step / 2;
}

function renderTimeseries(data) {
  const daily = (data && data.daily) || [];
  const label = (d) => String(d.date).slice(5);
  lineChart(document.getElementById("chart-cost"), daily.map((d) => ({ label: label(d), value: Number(d.cost) })), "#6d4aff", (v) => fmtUsd(v, v < 10 ? 2 : 0));
  lineChart(document.getElementById("chart-runs"), daily.map((d) => ({ label: label(d), value: Number(d.runs) })), "#16a34a", (v) => fmtInt(v));
}

// A sortable table. columns: [{key, title, num, render(row) -> Node|string, sort(row)}]
function table(container, rows, columns, id) {
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
      table(container, rows, columns, id);
    });
    head.append(th);
  }
  const body = el("tbody");
  for (const r of sorted) {
    const tr = el("tr");
    for (const c of columns) {
      const content = c.render ? c.render(r) : r[c.key] ?? "";
      tr.append(el("td", { class: c.num ? "num" : "" }, content));
    }
    body.append(tr);
  }
  container.append(el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, head), body)));
}

function rateBadge(rate) {
  return el("span", { class: "rate " + passRateClass(rate) }, rate === null ? "–" : fmtPct(rate));
}

function projectPassRate(p) {
  const judged = p.qa_passed + p.qa_warning + p.qa_failed;
  return judged > 0 ? p.qa_passed / judged : null;
}

function renderProjects(rows) {
  const list = document.getElementById("project-list");
  list.replaceChildren(...rows.map((p) => el("option", { value: p.project_name })));
  table(document.getElementById("projects"), rows, [
    { key: "project_name", title: "Project" },
    { key: "runs_count", title: "Runs", num: true, render: (p) => fmtInt(p.runs_count) },
    { key: "last_run_time", title: "Last Run", render: (p) => (p.last_run_time || "–").replace("T", " ").slice(0, 19) },
    { key: "total_tokens", title: "Total Tokens", num: true, render: (p) => fmtInt(p.total_tokens) },
    { key: "total_cost", title: "Total Cost", num: true, render: (p) => fmtUsd(p.total_cost) },
    { key: "avg_duration_seconds", title: "Avg Duration", num: true, render: (p) => fmtSec(p.avg_duration_seconds) },
    { key: "pass_rate", title: "QA Pass Rate", num: true, render: (p) => rateBadge(projectPassRate(p)), sort: (p) => projectPassRate(p) ?? -1 },
  ], "projects");
}

function renderModels(rows) {
  const total = rows.reduce((sum, m) => sum + Number(m.total_cost || 0), 0);
  const share = (m) => (m.cost_share !== undefined ? Number(m.cost_share) : total > 0 ? m.total_cost / total : 0);
  table(document.getElementById("models"), rows, [
    { key: "model_name", title: "Model" },
    { key: "total_tokens", title: "Total Tokens", num: true, render: (m) => fmtInt(m.total_tokens) },
    { key: "total_cost", title: "Total Cost", num: true, render: (m) => fmtUsd(m.total_cost, 4) },
    { key: "usage_count", title: "Usage Count", num: true, render: (m) => fmtInt(m.usage_count) },
    { key: "cost_share", title: "Cost Share", num: true, sort: share, render: (m) => {
      const bar = el("span", { class: "share" });
      bar.style.width = Math.round(share(m) * 80) + "px";
      return el("span", {}, bar, fmtPct(share(m)));
    } },
  ], "models");
}

// ---- forecast and anomalies: the series, its forecast band, flagged points ----
function seriesQuery(metric, extra) {
  const params = new URLSearchParams(filterQuery().slice(1));
  params.set("metric", metric);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return "?" + params.toString();
}

function forecastChart(container, history, forecast, flagged, format) {
  container.replaceChildren();
  const known = history.filter((p) => p.value !== null);
  if (!known.length) { container.append(el("div", { class: "na" }, "no data in this range")); return; }
  const ns = "http://www.w3.org/2000/svg";
  const W = 600, H = 220, L = 56, R = 12, T = 12, B = 26;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const make = (tag, attrs) => { const n = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); return n; };
  const total = history.length + forecast.length;
  const values = known.map((p) => p.value).concat(forecast.flatMap((p) => [p.lower, p.upper]));
  const max = Math.max(...values, 0) || 1;
  const min = Math.min(...values, 0);
  const x = (i) => L + (total === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (total - 1));
  const y = (v) => T + (H - T - B) * (1 - (v - min) / (max - min || 1));
  for (let t = 0; t <= 4; t++) {
    const v = min + ((max - min) * t) / 4;
    svg.append(make("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "axis" }));
    const label = make("text", { x: L - 6, y: y(v) + 3, "text-anchor": "end" });
    label.textContent = format(v);
    svg.append(label);
  }
  const labels = history.map((p) => p.timestamp).concat(forecast.map((p) => p.timestamp));
  const step = Math.max(1, Math.ceil(total / 8));
  labels.forEach((text, i) => {
    if (!labelled(i, total, step)) return;
    const label = make("text", { x: x(i), y: H - 8, "text-anchor": "middle" });
    label.textContent = String(text).slice(5, 10);
    svg.append(label);
  });
  if (forecast.length) {
    const at = (p, i) => history.length + i;
    const upper = forecast.map((p, i) => `${x(at(p, i)).toFixed(1)},${y(p.upper).toFixed(1)}`);
    const lower = forecast.map((p, i) => `${x(at(p, i)).toFixed(1)},${y(p.lower).toFixed(1)}`).reverse();
    svg.append(make("polygon", { points: upper.concat(lower).join(" "), class: "forecast-band" }));
    const last = history.length - 1;
    const lastValue = history[last].value ?? known[known.length - 1].value;
    const line = [`M${x(last).toFixed(1)},${y(lastValue).toFixed(1)}`]
      .concat(forecast.map((p, i) => `L${x(at(p, i)).toFixed(1)},${y(p.value).toFixed(1)}`)).join(" ");
    svg.append(make("path", { d: line, class: "forecast-line", "vector-effect": "non-scaling-stroke" }));
  }
  let path = "", pen = false;
  history.forEach((p, i) => {
    if (p.value === null) { pen = false; return; }
    path += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)} `;
    pen = true;
  });
  svg.append(make("path", { d: path.trim(), class: "history", "vector-effect": "non-scaling-stroke" }));
  const index = new Map(history.map((p, i) => [p.timestamp, i]));
  const marked = new Set();
  for (const f of flagged) {
    const i = index.get(f.timestamp);
    if (i === undefined || marked.has(i)) continue;
    marked.add(i);
    const dot = make("circle", { cx: x(i).toFixed(1), cy: y(f.value).toFixed(1), r: 4, class: "anomaly" });
    const title = make("title", {});
    title.textContent = `${f.timestamp}: ${format(f.value)}, expected ${format(f.expected)} (usual ${format(f.lower)} to ${format(f.upper)}; ${f.severity} severity)`;
    dot.append(title);
    svg.append(dot);
  }
  container.append(svg);
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
  if (!source.ok) { notAvailable(chart, source); return; }
  const format = metric === "cost" ? (v) => fmtUsd(v, v < 10 ? 2 : 0)
    : metric.endsWith("rate") ? (v) => fmtPct(v) : (v) => fmtInt(v);
  forecastChart(chart, source.data.series || [], forecast.ok ? forecast.data.points : [],
    anomalies.ok ? anomalies.data.anomalies : [], format);
  const text = document.getElementById("series-trend");
  if (trend.ok) {
    const t = trend.data;
    const model = forecast.ok ? ` · forecast: ${forecast.data.model_label}, MASE ${forecast.data.mase === null ? "–" : Number(forecast.data.mase).toFixed(2)}`
      : ` · no forecast: ${forecast.data && forecast.data.error ? forecast.data.error.message : "not available"}`;
    text.textContent = `${t.summary} (Mann-Kendall p ${Number(t.mk_p_value).toFixed(3)})${model}`;
  } else {
    text.textContent = trend.data?.error?.message || "no trend";
  }
  const list = document.getElementById("series-insights");
  list.replaceChildren(...(anomalies.ok ? anomalies.data.insights : []).map((i) => el("li", {}, i.message)));
}

async function section(name, render, fallback, withFilter = true) {
  const result = await api(name, withFilter);
  const container = document.getElementById(name);
  if (result.ok) { render(result.data); return result; }
  if (fallback) { fallback(result); return result; }
  if (container) notAvailable(container, result);
  return result;
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
  return el("span", { class: "rate " + ({ HIGH: "green", MEDIUM: "yellow", LOW: "red" }[level] || "none") }, level || "–");
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
  ], "tools");
}

function renderRisks(rows) {
  table(document.getElementById("risks"), rows, [
    { key: "tool_name", title: "Tool" },
    { key: "facet", title: "Where", render: (r) => r.facet.replace(/_/g, " ") + ": " + r.value },
    { key: "failures", title: "Failures", num: true, render: (r) => fmtInt(r.failures) + " / " + fmtInt(r.executions) },
    { key: "failure_rate", title: "Failure rate", num: true, render: (r) => fmtPct(r.failure_rate) },
    { key: "lift", title: "Lift", num: true, sort: (r) => r.lift ?? 0, render: (r) => (r.lift === null ? "–" : r.lift.toFixed(1) + "×") },
    { key: "share_of_failures", title: "Share of failures", num: true, render: (r) => fmtPct(r.share_of_failures) },
  ], "risks");
}

function renderRecommendations(rows) {
  const advice = { use: "green", use_with_review: "yellow", avoid: "red" };
  table(document.getElementById("recommendations"), rows, [
    { key: "tool_name", title: "Tool" },
    { key: "recommendation", title: "Advice", render: (r) => el("span", { class: "rate " + (advice[r.recommendation] || "none") }, r.recommendation.replace(/_/g, " ")) },
    { key: "reason", title: "Why", render: (r) => el("span", { class: "reason" }, r.reason) },
  ], "recommendations");
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
  ], "agents");
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
  ], "capacity");
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
    return { metric: m.metric + (m.lower_is_better ? " ↓" : ""), kind: m.kind, c, control: figures(c.baseline), treatment: figures(c.variant) };
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
  return el("section", { class: "panel", "data-experiment": analysis.experiment },
    el("div", { class: "panel-head" }, el("h2", {}, analysis.experiment),
      el("span", { class: "muted" }, experimentStatus(analysis.status) + " · control variant “" + analysis.control + "” · " + fmtInt(analysis.assignment.outcomes) + " outcomes, " + fmtInt(analysis.assignment.mismatched) + " mismatched with the assignment")),
    el("p", {}, el("span", { class: "rate " + (srm.mismatch ? "red" : "green") }, srm.mismatch ? "sample ratio mismatch" : "split ok"),
      " χ² " + fmtNum(srm.chi2, 3) + ", p " + fmtNum(srm.p_value) + " · " + users),
    container);
}

// An experiment's status in plain words.
function experimentStatus(status) {
  return { scheduled: "scheduled", running: "running", stopped: "stopped", undefined: "not defined (found in outcome events)" }[status] || String(status);
}

async function loadExperiments() {
  const list = await section("experiments", (rows) => table(document.getElementById("experiments"), rows, [
    { key: "key", title: "Experiment" },
    { key: "status", title: "Status", render: (r) => experimentStatus(r.status) },
    { key: "variants", title: "Variants", render: (r) => r.variants.map((v) => v.name + " " + fmtPct(v.weight)).join(", ") },
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
    { key: "kind", title: "Type" },
    { key: "percent", title: "Progress", render: (g) => el("progress", { max: "100", value: String(g.percent) }, fmtInt(g.percent) + "%") },
    { key: "value", title: "Value", num: true, render: (g) => fmtInt(g.value) + " / " + fmtInt(g.target) },
    { key: "status", title: "Status" },
  ], "learner-goals");
  table(document.getElementById("learner-achievements"), d.achievements.achievements, [
    { key: "name", title: "Achievement" },
    { key: "category", title: "Category" },
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
    { key: "level", title: "Level" },
    { key: "interactions", title: "Sessions", num: true },
    { key: "share", title: "Share", num: true, render: (t) => fmtPct(t.share) },
  ], "learner-mastery");
  topicBars(document.getElementById("learner-topics"), d.topics);
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
    svg.append(rect);
  }
  container.append(svg);
}

// Daily average quality as dots, its 7-day rolling average as a line, on a 0..1 axis.
function qualityChart(container, points) {
  container.replaceChildren();
  if (!points.some((p) => p.rolling_average != null)) { container.append(el("div", { class: "na" }, "no rated sessions in these weeks")); return; }
  const ns = "http://www.w3.org/2000/svg";
  const W = 600, H = 220, L = 40, R = 12, T = 12, B = 26;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const make = (tag, attrs) => { const n = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); return n; };
  const x = (i) => L + (points.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (points.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v);
  for (let t = 0; t <= 4; t++) {
    svg.append(make("line", { x1: L, x2: W - R, y1: y(t / 4), y2: y(t / 4), class: "axis" }));
    const label = make("text", { x: L - 6, y: y(t / 4) + 3, "text-anchor": "end" });
    label.textContent = (t / 4).toFixed(2);
    svg.append(label);
  }
  const step = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((p, i) => {
    if (!labelled(i, points.length, step)) return;
    const label = make("text", { x: x(i), y: H - 8, "text-anchor": "middle" });
    label.textContent = String(p.date).slice(5);
    svg.append(label);
  });
  let path = "", pen = false;
  points.forEach((p, i) => {
    if (p.rolling_average == null) { pen = false; return; }
    path += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(p.rolling_average).toFixed(1)} `;
    pen = true;
  });
  svg.append(make("path", { d: path.trim(), class: "rolling", "vector-effect": "non-scaling-stroke" }));
  points.forEach((p, i) => {
    if (p.average_quality == null) return;
    svg.append(make("circle", { cx: x(i), cy: y(p.average_quality), r: 2.5, class: "daily" }));
  });
  container.append(svg);
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

async function refresh() {
  const page = document.body.dataset.page;
  await loadFiring();
  if (page === "tools") await loadTools();
  else if (page === "agents") await loadAgents();
  else if (page === "experiments") await loadExperiments();
  else if (page === "learners") await loadLearners();
  else if (page === "traces") await loadTraces();
  else await loadOverview();
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  document.body.dataset.loaded = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === page);
  const params = new URLSearchParams(window.location.search);
  for (const name of ["project", "from", "to"]) {
    if (params.get(name)) document.getElementById("f-" + name).value = params.get(name);
  }
  document.getElementById("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const query = filterQuery();
    history.replaceState(null, "", window.location.pathname + query);
    refresh();
  });
  const ex = (id, kind) => { const b = document.getElementById(id); if (b) b.addEventListener("click", () => download(kind)); };
  ex("export-json", "json");
  ex("export-csv", "csv");
  const chosen = document.getElementById("export-chosen");
  if (chosen) chosen.addEventListener("click", () => download(document.getElementById("export-format").value));
  const learner = document.getElementById("learner");
  if (learner) learner.addEventListener("change", () => {
    history.replaceState(null, "", window.location.pathname + "?user=" + encodeURIComponent(learner.value));
    loadLearners();
  });
  const metric = document.getElementById("series-metric");
  if (metric) metric.addEventListener("change", loadSeries);
  setInterval(() => { if (document.getElementById("f-refresh").checked) refresh(); }, REFRESH_MS);
  refresh();
});
