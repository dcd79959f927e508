// tally events explorer: the stored events behind a number, filtered, newest first,
// a page at a time (GET /api/analytics/events). Every filter lives in the page URL,
// so a view can be shared as a link.
"use strict";

const EVENTS_API = "/api/analytics/events";
const SHELL_FILTERS = ["project", "from", "to"];
const EVENT_FILTERS = ["kind", "tool", "model", "agent", "success", "trace", "limit"];

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

function authHeaders() {
  const key = sessionStorage.getItem("tally_key");
  return key ? { Authorization: "Bearer " + key } : {};
}

function node(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") element.className = v; else element.setAttribute(k, v);
  }
  for (const child of children) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

function input(name) {
  return document.getElementById((SHELL_FILTERS.includes(name) ? "f-" : "e-") + name);
}

// The filters as the inputs hold them, and the cursor when given.
function currentQuery(cursor) {
  const params = new URLSearchParams();
  for (const name of [...SHELL_FILTERS, ...EVENT_FILTERS]) {
    const field = input(name);
    const value = field ? field.value.trim() : "";
    if (value && !(name === "limit" && value === "50")) params.set(name, value);
  }
  if (cursor) params.set("cursor", cursor);
  return params;
}

function fillInputs(params) {
  for (const name of [...SHELL_FILTERS, ...EVENT_FILTERS]) {
    const field = input(name);
    if (field && params.get(name)) field.value = params.get(name);
  }
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
    holder.append(node("div", { class: "na" }, "no events match these filters"));
    return;
  }
  const head = node("tr", {}, ...["Time", "Kind", "Project", "Tool / model", "Agent", "Outcome", "Cost", "Latency", "Trace"]
    .map((title, i) => node("th", i >= 6 && i <= 7 ? { class: "num" } : {}, title)));
  const body = node("tbody");
  for (const event of events) {
    const trace = traceOf(event);
    const traceCell = node("td");
    if (trace) traceCell.append(node("a", { href: "/analytics/traces?trace=" + encodeURIComponent(trace), "data-trace": trace }, trace.slice(0, 8) + "…"));
    const row = node("tr", { class: "event-row", "data-id": event.id, "data-kind": event.kind },
      node("td", {}, event.ts),
      node("td", {}, event.kind),
      node("td", {}, event.project),
      node("td", { "data-col": "tool" }, toolOrModel(event)),
      node("td", {}, event.agent_id || ""),
      node("td", {}, outcome(event)),
      node("td", { class: "num" }, event.cost_usd != null ? money(event.cost_usd) : ""),
      node("td", { class: "num" }, latency(event)),
      traceCell);
    const detail = node("tr", { class: "event-json", hidden: "" }, node("td", { colspan: "9" }, JSON.stringify(event, null, 2)));
    row.addEventListener("click", (click) => {
      if (click.target.closest("a")) return;
      detail.hidden = !detail.hidden;
    });
    body.append(row, detail);
  }
  holder.append(node("table", {}, node("thead", {}, head), body));
}

function renderError(status, data) {
  const message = data && data.error ? data.error.message : "the server did not answer (" + status + ")";
  document.getElementById("events").replaceChildren(node("div", { class: "na" }, message));
}

async function loadEvents() {
  const params = new URLSearchParams(window.location.search);
  const cursor = params.get("cursor");
  const query = currentQuery(cursor).toString();
  let status = 0;
  let data = null;
  try {
    const response = await fetch(EVENTS_API + (query ? "?" + query : ""), { headers: authHeaders() });
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
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  document.body.dataset.loaded = "true";
}

// Shows the first page of the filters the inputs hold, or the page below `cursor`.
function show(cursor) {
  const query = currentQuery(cursor).toString();
  history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  loadEvents();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === "events");
  fillInputs(new URLSearchParams(window.location.search));
  for (const id of ["filters", "event-filters"]) {
    document.getElementById(id).addEventListener("submit", (event) => {
      event.preventDefault();
      show(null);
    });
  }
  document.getElementById("events-next").addEventListener("click", (event) => show(event.target.dataset.cursor));
  document.getElementById("events-first").addEventListener("click", () => show(null));
  loadEvents();
});
