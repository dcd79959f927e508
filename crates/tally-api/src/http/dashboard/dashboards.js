// tally saved dashboards: lists the dashboards (/api/analytics/dashboards), renders one
// (?id=) widget by widget from the API's views with dashboard.js's charts, tables and
// number formats, and edits the saved ones: add a widget, move it up or down, remove
// it, save. The built-in dashboards are read-only: copy one to change it.
"use strict";

// What each view reads and how it may be drawn (the server checks the same).
const BOARD_VIEWS = {
  summary: { api: "summary", charts: ["kpi"] },
  cost_series: { api: "timeseries", charts: ["line", "bar"], field: "cost", unit: "usd", color: "#6d4aff" },
  token_series: { api: "timeseries", charts: ["line", "bar"], field: "tokens", unit: "count", color: "#0ea5e9" },
  run_series: { api: "timeseries", charts: ["line", "bar"], field: "runs", unit: "count", color: "#16a34a" },
  qa_rate: { api: "timeseries", charts: ["line", "bar"], unit: "ratio", color: "#d99a06",
    field: (d) => { const judged = d.qa_passed + d.qa_warning + d.qa_failed; return judged > 0 ? d.qa_passed / judged : null; } },
  qa: { api: "qa", charts: ["kpi", "bar", "table"], narrow: "qa_status" },
  models: { api: "models", charts: ["table", "bar"], narrow: "model", key: "model_name", measure: "total_cost" },
  tools: { api: "tools", charts: ["table", "bar"], narrow: "tool", key: "tool_name", measure: "total_executions" },
  agents: { api: "agents", charts: ["table", "bar"], narrow: "agent", key: "agent_id", measure: "executions" },
  projects: { api: "projects", charts: ["table", "bar"], key: "project_name", measure: "total_cost" },
  requests: { api: "requests", charts: ["table", "bar"], key: "endpoint", measure: "requests", rows: (d) => d.endpoints },
  budget: { api: "budget", charts: ["kpi"] },
  realtime: { api: "realtime", charts: ["kpi"] },
  pipeline: { api: "pipeline", charts: ["kpi"] },
  learners: { api: "learning/learners", charts: ["table"], narrow: "user", key: "learner", noRange: true,
    rows: (d) => (d.learners || []).map((name) => ({ learner: name })) },
};
const BOARD_PERIODS = ["last_24_hours", "last_7_days", "last_30_days", "last_90_days", "this_month"];
const MAX_CARDS = 12;

const board = { list: [], current: null, dirty: false, wired: false };

async function boardApi(method, path, body) {
  try {
    const init = { method, headers: Object.assign({ "Content-Type": "application/json" }, headers()) };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch("/api/analytics/" + path, init);
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: { error: { message: String(error) } } };
  }
}

// A figure formatted by what its name says it is.
function boardFigure(key, value) {
  if (missing(value)) return NO_DATA;
  if (typeof value !== "number") return String(value);
  if (/cost|budget|spend|usd/.test(key)) return fmtUsd(value);
  if (/rate|share|ratio|utilisation/.test(key)) return fmtPct(value);
  if (/seconds/.test(key)) return fmtSec(value);
  if (/_ms$/.test(key)) return fmtInt(value) + " ms";
  return Number.isInteger(value) ? fmtInt(value) : Number(value).toFixed(2);
}

// The query of a widget: its project (or the dashboard's, or the page's) and its period (or the page's range).
function widgetQuery(widget, view) {
  const params = new URLSearchParams();
  const page = filterParams();
  const project = widget.filters.project || (board.current && board.current.project) || page.get("project");
  if (project) params.set("project", project);
  if (view.noRange) return params;
  const period = widget.filters.period;
  if (period) {
    const now = new Date();
    const day = (n) => isoDay(Math.floor(now.getTime() / 1000) - n * 86400);
    const from = {
      last_24_hours: new Date(now.getTime() - 86400000).toISOString().replace(/\.\d+Z$/, "Z"),
      last_7_days: day(6), last_30_days: day(29), last_90_days: day(89),
      this_month: now.toISOString().slice(0, 8) + "01",
    }[period];
    params.set("from", from);
  } else {
    for (const name of ["from", "to"]) if (page.get(name)) params.set(name, page.get(name));
  }
  return params;
}

function kpiCards(container, entries) {
  const cards = entries.slice(0, MAX_CARDS).map(([key, value]) =>
    el("div", { class: "card", "data-kpi": key, "data-value": String(value ?? "") },
      el("div", { class: "label" }, words(key)), el("div", { class: "kpi-value" }, boardFigure(key, value))));
  container.replaceChildren(cards.length ? el("div", { class: "kpis" }, ...cards) : el("div", { class: "na" }, NO_DATA));
}

function numericEntries(data) {
  return Object.entries(data || {}).filter(([, v]) => typeof v === "number");
}

function barList(container, rows, key, measure) {
  const sorted = rows.slice().sort((a, b) => Number(b[measure] || 0) - Number(a[measure] || 0)).slice(0, TOP_ROWS);
  if (!sorted.length) { noData(container); return; }
  const top = Math.max(...sorted.map((r) => Number(r[measure] || 0)), 1e-12);
  container.replaceChildren(el("div", { class: "bars", "data-measure": measure }, ...sorted.map((r) => {
    const fill = el("div", { class: "fill" });
    fill.style.width = (100 * Number(r[measure] || 0) / top).toFixed(1) + "%";
    return el("div", { class: "row", "data-row": String(r[key]) }, el("span", {}, String(r[key])), fill, el("span", { class: "num" }, boardFigure(measure, r[measure])));
  })));
}

function genericTable(container, rows, id) {
  const first = rows[0] || {};
  const columns = Object.keys(first).filter((k) => first[k] === null || typeof first[k] !== "object").slice(0, 7)
    .map((k) => ({ key: k, title: words(k), num: typeof first[k] === "number", render: (r) => boardFigure(k, r[k]) }));
  table(container, rows, columns, id);
}

function seriesChart(container, widget, view, data) {
  const days = (data && (data.daily || data.hourly)) || [];
  const value = typeof view.field === "function" ? view.field : (d) => Number(d[view.field]);
  const values = days.map(value);
  if (!days.length || values.every((v) => !v)) { noData(container); return; }
  const x = days.map((d) => epoch(d.date || d.hour));
  if (widget.chart === "line") {
    timeChart(container, { x, unit: view.unit, series: [{ key: widget.view, label: widget.title, values, color: view.color, fill: view.color + "22" }] });
    return;
  }
  destroyChart(container);
  container.replaceChildren();
  const width = () => Math.max(240, Math.floor(container.clientWidth));
  const plot = new uPlot({
    width: width(), height: CHART_HEIGHT,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    scales: { x: { time: true } },
    axes: [{}, { values: axisValues(view.unit), size: 72 }],
    series: [{ label: "day", value: (u, v) => (v === null || v === undefined ? "–" : isoDay(v)) },
      { label: widget.title, stroke: view.color, fill: view.color + "99", points: { show: false },
        paths: uPlot.paths.bars({ size: [0.6, 64] }), value: (u, v) => fmtUnit(view.unit, v) }],
  }, [x, values], container);
  const observer = new ResizeObserver(() => { if (width() !== plot.width) plot.setSize({ width: width(), height: CHART_HEIGHT }); });
  observer.observe(container);
  charts.set(container.id, { plot, observer });
  container.dataset.chart = "uplot";
  container.dataset.series = widget.view;
  container.dataset.points = String(x.length);
}

function renderWidget(container, widget, view, data, index) {
  const narrowed = view.narrow && widget.filters[view.narrow];
  if (view.charts[0] === "kpi" && widget.view !== "qa") { kpiCards(container, numericEntries(data)); return; }
  if (widget.view === "qa") {
    let entries = numericEntries(data);
    if (narrowed) entries = entries.filter(([k]) => k === "qa_" + narrowed);
    if (widget.chart === "kpi") kpiCards(container, entries);
    else if (widget.chart === "bar") barList(container, entries.map(([k, v]) => ({ verdict: words(k), n: v })), "verdict", "n");
    else genericTable(container, entries.map(([k, v]) => ({ verdict: words(k), value: v })), "w-" + index);
    return;
  }
  if (view.field) { seriesChart(container, widget, view, data); return; }
  let rows = (view.rows ? view.rows(data) : data) || [];
  if (narrowed) rows = rows.filter((r) => String(r[view.key]) === narrowed);
  if (!rows.length) { noData(container); return; }
  if (widget.chart === "bar") barList(container, rows, view.key, view.measure);
  else genericTable(container, rows, "w-" + index);
}

function widgetPanel(widget, index, editable) {
  const body = el("div", { id: "w-" + index + "-body", class: BOARD_VIEWS[widget.view] && BOARD_VIEWS[widget.view].field ? "chart" : "" });
  const head = el("div", { class: "panel-head" }, el("h2", {}, widget.title));
  if (editable) {
    const tools = el("span", { class: "widget-tools" });
    for (const [action, label, title] of [["up", "▲", "move up"], ["down", "▼", "move down"], ["remove", "✕", "remove"]]) {
      const button = el("button", { type: "button", "data-action": action, title }, label);
      button.addEventListener("click", () => changeWidget(action, index));
      tools.append(button);
    }
    head.append(tools);
  }
  return el("section", { class: "panel widget", "data-widget": String(index), "data-view": widget.view, "data-chart": widget.chart }, head, body);
}

async function renderBoard() {
  const holder = document.getElementById("board");
  for (const node of holder.querySelectorAll(".chart")) destroyChart(node);
  const current = board.current;
  if (!current) { holder.replaceChildren(el("div", { class: "na" }, "no dashboard")); return; }
  const editable = !current.builtin;
  const panels = current.widgets.map((w, i) => widgetPanel(w, i, editable));
  holder.replaceChildren(...panels);
  if (!panels.length) holder.append(el("div", { class: "na" }, "no widgets yet: add one above"));
  await Promise.all(current.widgets.map(async (widget, index) => {
    const view = BOARD_VIEWS[widget.view];
    const container = document.getElementById("w-" + index + "-body");
    if (!view) { container.append(el("div", { class: "na" }, "unknown view " + widget.view)); return; }
    const query = widgetQuery(widget, view).toString();
    const result = await boardApi("GET", view.api + (query ? "?" + query : ""));
    if (!result.ok) { notAvailable(container, result); return; }
    renderWidget(container, widget, view, result.data, index);
  }));
}

function showEditor() {
  const current = board.current;
  const editor = document.getElementById("board-editor");
  editor.hidden = !current || current.builtin;
  document.getElementById("board-copy").hidden = !current;
  document.getElementById("board-kind").textContent = !current ? "" : current.builtin ? "built in, read-only: copy it to change it" : (board.dirty ? "unsaved changes" : "saved");
  document.getElementById("board-delete").hidden = !current || !current.id;
  if (!current || current.builtin) return;
  const name = document.getElementById("board-name");
  const project = document.getElementById("board-project");
  if (document.activeElement !== name) name.value = current.name;
  if (document.activeElement !== project) project.value = current.project || "";
}

function fillSelect(select, values, labels) {
  const kept = select.value;
  select.replaceChildren(...values.map((v, i) => el("option", { value: v }, labels ? labels[i] : words(v))));
  if (values.includes(kept)) select.value = kept;
}

function showList() {
  const select = document.getElementById("board-select");
  const entries = board.list.slice();
  if (board.current && !board.current.id) entries.push(board.current);
  fillSelect(select, entries.map((d) => d.id || ""), entries.map((d) => d.name + (d.builtin ? " (built in)" : d.project ? " · " + d.project : "")));
  select.value = board.current ? board.current.id || "" : "";
}

function markDirty() {
  board.dirty = true;
  document.getElementById("board-status").textContent = "";
  showEditor();
}

function changeWidget(action, index) {
  const widgets = board.current.widgets;
  const to = action === "up" ? index - 1 : index + 1;
  if (action === "remove") widgets.splice(index, 1);
  else if (to >= 0 && to < widgets.length) [widgets[index], widgets[to]] = [widgets[to], widgets[index]];
  else return;
  markDirty();
  renderBoard();
}

function addWidget() {
  const viewName = document.getElementById("widget-view").value;
  const view = BOARD_VIEWS[viewName];
  const filters = {};
  const period = document.getElementById("widget-period").value;
  if (period && !view.noRange) filters.period = period;
  const narrow = document.getElementById("widget-narrow").value.trim();
  if (narrow && view.narrow) filters[view.narrow] = narrow;
  const title = document.getElementById("widget-title").value.trim() || words(viewName);
  board.current.widgets.push({ title, view: viewName, chart: document.getElementById("widget-chart").value, filters });
  document.getElementById("widget-title").value = "";
  document.getElementById("widget-narrow").value = "";
  markDirty();
  renderBoard();
}

async function saveBoard() {
  const current = board.current;
  const status = document.getElementById("board-status");
  const body = {
    name: document.getElementById("board-name").value,
    project: document.getElementById("board-project").value.trim() || null,
    widgets: current.widgets,
  };
  const result = current.id
    ? await boardApi("PUT", "dashboard/" + encodeURIComponent(current.id), body)
    : await boardApi("POST", "dashboard", body);
  if (!result.ok) {
    const error = (result.data && result.data.error) || {};
    status.textContent = "not saved: " + (error.message || result.status);
    status.dataset.error = (error.details && error.details.field) || "";
    return;
  }
  status.textContent = "saved";
  status.dataset.error = "";
  board.current = result.data;
  board.dirty = false;
  keepFilters({ id: result.data.id });
  await loadDashboards();
}

async function deleteBoard() {
  const current = board.current;
  const result = await boardApi("DELETE", "dashboard/" + encodeURIComponent(current.id));
  if (!result.ok) { document.getElementById("board-status").textContent = "not deleted: " + ((result.data && result.data.error && result.data.error.message) || result.status); return; }
  board.current = null;
  board.dirty = false;
  keepFilters({ id: null });
  await loadDashboards();
}

function startBoard(from) {
  board.current = {
    id: null, builtin: false, project: from ? from.project : (filterParams().get("project") || null),
    name: from ? from.name + " (copy)" : "New dashboard",
    widgets: from ? JSON.parse(JSON.stringify(from.widgets)) : [],
  };
  markDirty();
  showList();
  renderBoard();
}

function wireBoard() {
  if (board.wired) return;
  board.wired = true;
  const viewSelect = document.getElementById("widget-view");
  fillSelect(viewSelect, Object.keys(BOARD_VIEWS));
  const charts = () => fillSelect(document.getElementById("widget-chart"), BOARD_VIEWS[viewSelect.value].charts);
  viewSelect.addEventListener("change", charts);
  charts();
  fillSelect(document.getElementById("widget-period"), [""].concat(BOARD_PERIODS), ["the page's range"].concat(BOARD_PERIODS.map(words)));
  document.getElementById("board-select").addEventListener("change", (event) => {
    const chosen = board.list.find((d) => d.id === event.target.value);
    if (!chosen) return;
    board.current = chosen;
    board.dirty = false;
    keepFilters({ id: chosen.id });
    showList();
    showEditor();
    renderBoard();
  });
  document.getElementById("board-new").addEventListener("click", () => startBoard(null));
  document.getElementById("board-copy").addEventListener("click", () => startBoard(board.current));
  document.getElementById("widget-add").addEventListener("click", addWidget);
  document.getElementById("board-save").addEventListener("click", saveBoard);
  document.getElementById("board-delete").addEventListener("click", deleteBoard);
  for (const id of ["board-name", "board-project"]) document.getElementById(id).addEventListener("input", () => {
    board.current.name = document.getElementById("board-name").value;
    board.current.project = document.getElementById("board-project").value.trim() || null;
    markDirty();
  });
}

// The page's loader (dashboard.js's refresh calls it through `pageLoaders`): the list, then the dashboard shown.
// Unsaved changes stay as they are while the data refreshes.
async function loadDashboards() {
  wireBoard();
  const listed = await boardApi("GET", "dashboards");
  if (!listed.ok) { notAvailable(document.getElementById("board"), listed); return; }
  board.list = listed.data;
  if (!board.dirty) {
    const wanted = (board.current && board.current.id) || new URLSearchParams(window.location.search).get("id");
    board.current = board.list.find((d) => d.id === wanted) || board.list[0] || null;
    if (board.current) keepFilters({ id: board.current.id });
  }
  showList();
  showEditor();
  await renderBoard();
}
pageLoaders.dashboards = loadDashboards;
