// tally events explorer: the stored events behind a number, filtered, newest first,
// a page at a time (GET /api/analytics/events). Loaded after dashboard.js, whose key
// handling, shell filters (in the URL and the nav links), firing-alerts strip and
// project suggestions it shares; every filter lives in the page URL, so a view can be
// shared as a link.
"use strict";

const EVENTS_API = "/api/analytics/events";
const EVENT_FILTERS = ["kind", "tool", "model", "agent", "success", "trace", "limit"];

// The page's own filters as their inputs hold them (the shell's project, from and to
// are dashboard.js's).
function eventFilters() {
  const values = {};
  for (const name of EVENT_FILTERS) {
    const value = document.getElementById("e-" + name).value.trim();
    values[name] = value && !(name === "limit" && value === "50") ? value : "";
  }
  return values;
}

// The API query: the shell's filters, the page's and the cursor when given.
function eventsQuery(cursor) {
  const params = filterParams();
  for (const [name, value] of Object.entries(eventFilters())) if (value) params.set(name, value);
  if (cursor) params.set("cursor", cursor);
  return params;
}

const money = (n) => "$" + Number(n).toLocaleString("en-US", { minimumFractionDigits: 4, maximumFractionDigits: 4 });
const millis = (n) => Number(n).toLocaleString("en-US", { maximumFractionDigits: 1 }) + " ms";

// How long an event took, whatever its kind names it.
function latency(event) {
  if (event.duration_ms != null) return millis(event.duration_ms);
  if (event.latency_ms != null) return millis(event.latency_ms);
  if (event.duration_s != null) return millis(event.duration_s * 1000);
  return "";
}

function toolOrModel(event) {
  if (event.kind === "execution") return event.model ? event.tool + " · " + event.model : event.tool;
  if (event.kind === "run" && Array.isArray(event.models)) return event.models.map((m) => m.model).join(", ");
  if (event.kind === "request") return event.method + " " + event.endpoint;
  if (event.kind === "error") return event.source;
  if (event.kind === "skill") return event.skill;
  if (event.kind === "system") return event.host;
  return "";
}

function outcome(event) {
  if (event.success === true) return "ok";
  if (event.success === false) return "failed" + (event.error ? " (" + event.error + ")" : "");
  if (event.status != null) return String(event.status);
  if (event.qa_status != null) return event.qa_status;
  return "";
}

// A span of an OpenTelemetry trace: its trace id, which the traces page opens.
function traceOf(event) {
  const attrs = event.attrs || {};
  return event.kind === "execution" && event.task_id && attrs["otel.span_id"] ? event.task_id : null;
}

function renderEvents(events) {
  const holder = document.getElementById("events");
  holder.replaceChildren();
  if (events.length === 0) {
    holder.append(el("div", { class: "na" }, "no events match these filters"));
    return;
  }
  const head = el("tr", {}, ...["Time", "Kind", "Project", "Tool / model", "Agent", "Outcome", "Cost", "Latency", "Trace"]
    .map((title, i) => el("th", i >= 6 && i <= 7 ? { class: "num" } : {}, title)));
  const body = el("tbody");
  for (const event of events) {
    const trace = traceOf(event);
    const traceCell = el("td");
    if (trace) traceCell.append(el("a", { href: "/analytics/traces?trace=" + encodeURIComponent(trace), "data-trace": trace }, trace.slice(0, 8) + "…"));
    const row = el("tr", { class: "event-row", "data-id": event.id, "data-kind": event.kind },
      el("td", {}, event.ts),
      el("td", {}, event.kind),
      el("td", {}, event.project),
      el("td", { "data-col": "tool" }, toolOrModel(event)),
      el("td", {}, event.agent_id || ""),
      el("td", {}, outcome(event)),
      el("td", { class: "num" }, event.cost_usd != null ? money(event.cost_usd) : ""),
      el("td", { class: "num" }, latency(event)),
      traceCell);
    const detail = el("tr", { class: "event-json", hidden: "" }, el("td", { colspan: "9" }, JSON.stringify(event, null, 2)));
    row.addEventListener("click", (click) => {
      if (click.target.closest("a")) return;
      detail.hidden = !detail.hidden;
    });
    body.append(row, detail);
  }
  holder.append(el("table", {}, el("thead", {}, head), body));
}

function renderError(status, data) {
  const message = data && data.error ? data.error.message : "the server did not answer (" + status + ")";
  document.getElementById("events").replaceChildren(el("div", { class: "na" }, message));
}

// The page's loader, called by dashboard.js's refresh and when paging.
async function loadEvents() {
  const cursor = new URLSearchParams(window.location.search).get("cursor");
  const query = eventsQuery(cursor).toString();
  let status = 0;
  let data = null;
  try {
    const response = await fetch(EVENTS_API + (query ? "?" + query : ""), { headers: headers() });
    status = response.status;
    data = await response.json();
  } catch (error) {
    data = { error: { message: String(error) } };
  }
  const next = document.getElementById("events-next");
  document.getElementById("events-first").hidden = !cursor;
  if (status === 200 && data && Array.isArray(data.events)) {
    renderEvents(data.events);
    next.hidden = !data.next_cursor;
    next.dataset.cursor = data.next_cursor || "";
    document.getElementById("events-scope").textContent =
      data.events.length + " events" + (cursor ? " (a later page)" : "") + ", newest first";
  } else {
    renderError(status, data);
    next.hidden = true;
  }
}

// Shows the first page of the filters the inputs hold, or the page below `cursor`; the
// URL (and the nav links) keep them.
function show(cursor) {
  keepFilters({ ...eventFilters(), cursor: cursor || "" });
  loadEvents();
}

pageLoaders.events = loadEvents;

// Deferred, after dashboard.js: the page is parsed, dashboard.js has filled the
// shell's inputs from the URL and will call loadEvents once the alerts are in.
(function wireEventsPage() {
  const params = new URLSearchParams(window.location.search);
  for (const name of EVENT_FILTERS) {
    if (params.get(name)) document.getElementById("e-" + name).value = params.get(name);
  }
  document.getElementById("event-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    show(null);
  });
  document.getElementById("events-next").addEventListener("click", (event) => show(event.target.dataset.cursor));
  document.getElementById("events-first").addEventListener("click", () => show(null));
})();
