"""Drives the saved dashboards page and the live updates in Debian's Chromium (Playwright).

Input (stdin, JSON): {"base": URL, "mode": "edit" | "live", "samples": N, "seed": bool}.
- edit: creates a dashboard, adds three widgets, moves the last one up, removes the first,
  saves, reloads the page, and reports the widgets seen before saving and after the reload.
- live: opens the overview, waits for its live stream, then N times posts a run over HTTP
  and waits (no reload) until the runs KPI shows the new count. Each time the browser's
  clock notes when the KPI changed, and Python's when the ingest answered (the batch
  committed): the difference is the live latency, commit to DOM, in milliseconds
  (`median_ms` of them). With "seed", a first run is posted so an empty database shows
  the KPIs. This is also the measurement of docs/performance.md:
  echo '{"base":"http://127.0.0.1:7979","mode":"live","samples":50,"seed":true}' | python3 tests/oracles/dashboards_live.py
Output: what was seen, as JSON; the Rust test asserts.
"""

import json
import sys
import time
import urllib.request
from datetime import datetime, timezone

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def loaded(page):
    page.wait_for_selector("body[data-loaded=true]", timeout=60000)


def views(page):
    return page.eval_on_selector_all("#board [data-widget]", "ns => ns.map((n) => n.dataset.view)")


def edit(context, base, errors):
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/analytics/dashboards")
    loaded(page)
    seen = {"listed": page.eval_on_selector_all("#board-select option", "os => os.map((o) => o.value)")}
    seen["builtin_widgets"] = views(page)
    page.click("#board-new")
    page.fill("#board-name", "Browser board")
    for view, chart in (("summary", "kpi"), ("models", "table"), ("cost_series", "bar")):
        page.select_option("#widget-view", view)
        page.select_option("#widget-chart", chart)
        page.click("#widget-add")
    seen["added"] = views(page)
    page.click("#board [data-widget='2'] [data-action=up]")
    seen["moved"] = views(page)
    page.click("#board [data-widget='0'] [data-action=remove]")
    seen["before_save"] = views(page)
    page.click("#board-save")
    page.wait_for_function("() => document.getElementById('board-status').textContent === 'saved'", timeout=30000)
    seen["url"] = page.url
    page.reload()
    loaded(page)
    page.wait_for_selector("#board [data-widget]", timeout=30000)
    seen["after_reload"] = views(page)
    seen["name"] = page.input_value("#board-name")
    seen["selected"] = page.input_value("#board-select")
    page.wait_for_selector("#board [data-view=cost_series] [data-chart=uplot], #board [data-view=cost_series] .na", timeout=30000)
    seen["chart"] = page.eval_on_selector("#board [data-view=cost_series] .chart", "n => n.dataset.chart || n.innerText")
    return seen


def post_run(base, run_id):
    ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = json.dumps({"kind": "run", "id": run_id, "project": "alpha", "ts": ts, "duration_s": 3}).encode()
    request = urllib.request.Request(base + "/api/analytics/events", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        response.read()
    return time.time() * 1000.0


def live(context, base, samples, errors, seed):
    if seed:
        post_run(base, f"live-seed-{time.time_ns()}")
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/analytics")
    loaded(page)
    page.wait_for_selector("body[data-live=on]", timeout=30000)
    page.evaluate("document.getElementById('updated').dataset.marker = 'same page'")
    seen = {"before": page.get_attribute("#kpi-total-runs", "data-value"), "latencies_ms": [], "values": []}
    for i in range(samples):
        expected = str(int(seen["before"]) + i + 1)
        # The browser notes when the KPI first shows the new count.
        page.evaluate(
            """(expected) => {
              const node = document.getElementById("kpi-total-runs");
              window.__shown = null;
              const observer = new MutationObserver(() => {
                if (node.dataset.value === expected && window.__shown === null) { window.__shown = Date.now(); observer.disconnect(); }
              });
              observer.observe(node, { attributes: true, childList: true, characterData: true, subtree: true });
            }""",
            expected,
        )
        committed = post_run(base, f"live-run-{time.time_ns()}-{i}")
        page.wait_for_function("() => window.__shown !== null", timeout=30000)
        shown = page.evaluate("window.__shown")
        seen["latencies_ms"].append(shown - committed)
        seen["values"].append(page.get_attribute("#kpi-total-runs", "data-value"))
    ordered = sorted(seen["latencies_ms"])
    middle = len(ordered) // 2
    seen["median_ms"] = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    seen["max_ms"] = ordered[-1]
    seen["same_page"] = page.evaluate("document.getElementById('updated').dataset.marker")
    seen["live"] = page.get_attribute("body", "data-live")
    return seen


def main():
    case = json.load(sys.stdin)
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            if case["mode"] == "edit":
                result = edit(context, case["base"], errors)
            else:
                result = live(context, case["base"], case.get("samples", 1), errors, case.get("seed", False))
        finally:
            browser.close()
    result["errors"] = errors
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
