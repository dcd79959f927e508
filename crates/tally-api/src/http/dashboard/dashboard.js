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
  if (result && result.status === 404) message = "not available on this server";
  else if (result && result.data && result.data.error) message = "not available: " + result.data.error.message;
  container.append(el("div", { class: "na" }, message));
}

function banner(text) {
  const node = document.getElementById("banner");
  if (text) { node.textContent = text; node.hidden = false; } else { node.hidden = true; }
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
  setKpi("kpi-avg-cost-per-run", s.avg_cost_per_run, fmtUsd(s.avg_cost_per_run, 4));
  setKpi("kpi-avg-duration", s.avg_duration_seconds, fmtSec(s.avg_duration_seconds));
  const qa = s.qa_summary;
  setKpi("kpi-qa-pass-rate", qa.pass_rate, fmtPct(qa.pass_rate));
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
  svg.setAttribute("preserveAspectRatio", "none");
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
    if (i % step !== 0 && i !== points.length - 1) return;
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

// Any list of records (or an object holding one) as a table with its own columns.
function genericTable(id, data) {
  const container = document.getElementById(id);
  let rows = data;
  if (rows && !Array.isArray(rows) && typeof rows === "object") {
    const list = Object.values(rows).find(Array.isArray);
    rows = list || [rows];
  }
  if (!Array.isArray(rows) || !rows.length) { table(container, [], [], id); return; }
  const keys = [...new Set(rows.flatMap((r) => (r && typeof r === "object" ? Object.keys(r) : [])))];
  const columns = keys.map((key) => {
    const num = rows.every((r) => r[key] === null || r[key] === undefined || typeof r[key] === "number");
    return {
      key, num, title: key.replace(/_/g, " "),
      render: (r) => {
        const v = r[key];
        if (v === null || v === undefined) return "–";
        if (/rate|share|confidence$/.test(key) && typeof v === "number" && v <= 1) return rateBadge(v);
        if (key === "confidence_level") return el("span", { class: "rate " + ({ HIGH: "green", MEDIUM: "yellow", LOW: "red" }[String(v).toUpperCase()] || "none") }, v);
        if (typeof v === "number") return /cost|usd/.test(key) ? fmtUsd(v, 4) : Number.isInteger(v) ? fmtInt(v) : v.toFixed(2);
        if (typeof v === "object") return JSON.stringify(v);
        return String(v);
      },
    };
  });
  table(container, rows, columns, id);
}

async function section(name, render, fallback) {
  const result = await api(name);
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
  ]);
}

async function loadTools() {
  await Promise.all([
    section("tools", (d) => genericTable("tools", d)),
    section("risks", (d) => genericTable("risks", d)),
    section("recommendations", (d) => genericTable("recommendations", d)),
  ]);
}

async function loadAgents() {
  await Promise.all([
    section("agents", (d) => genericTable("agents", d)),
    section("capacity", (d) => genericTable("capacity", d)),
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
      el("span", { class: "muted" }, analysis.status + " · control " + analysis.control + " · " + fmtInt(analysis.assignment.outcomes) + " outcomes, " + fmtInt(analysis.assignment.mismatched) + " mismatched with the assignment")),
    el("p", {}, el("span", { class: "rate " + (srm.mismatch ? "red" : "green") }, srm.mismatch ? "sample ratio mismatch" : "split ok"),
      " χ² " + fmtNum(srm.chi2, 3) + ", p " + fmtNum(srm.p_value) + " · " + users),
    container);
}

async function loadExperiments() {
  const list = await section("experiments", (rows) => table(document.getElementById("experiments"), rows, [
    { key: "key", title: "Experiment" },
    { key: "status", title: "Status" },
    { key: "variants", title: "Variants", render: (r) => r.variants.map((v) => v.name + " " + fmtPct(v.weight)).join(", ") },
    { key: "coverage", title: "Coverage", num: true, render: (r) => fmtPct(r.coverage) },
    { key: "primary_metric", title: "Primary metric", render: (r) => r.primary_metric || "–" },
    { key: "hypothesis", title: "Hypothesis", render: (r) => r.hypothesis || "–" },
  ], "experiments"));
  const holder = document.getElementById("experiment-analyses");
  if (!list.ok || !Array.isArray(list.data)) { holder.replaceChildren(); return; }
  const analyses = await Promise.all(list.data.map((e) => api("experiments/" + encodeURIComponent(e.key) + "/analysis")));
  holder.replaceChildren(...analyses.map((result, i) => result.ok
    ? renderAnalysis(result.data)
    : el("section", { class: "panel" }, el("h2", {}, list.data[i].key), el("div", { class: "na" }, result.data?.error?.message || "not available"))));
}

async function download(kind) {
  const response = await fetch(API + "export/" + kind + filterQuery(), { headers: headers() });
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
  if (page === "tools") await loadTools();
  else if (page === "agents") await loadAgents();
  else if (page === "experiments") await loadExperiments();
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
  setInterval(() => { if (document.getElementById("f-refresh").checked) refresh(); }, REFRESH_MS);
  refresh();
});
