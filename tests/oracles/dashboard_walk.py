"""Walks the dashboard in Debian's Chromium, driven by Playwright, and prints what it saw as JSON.

Input (stdin, JSON): {"base": URL, "query": "project=..&from=..&to=..", "shots": DIR,
"empty": bool}. Output: per page and width the URL, the filter inputs, the nav links,
the page's text, console errors, the charts' geometry; the URLs that clicking a chart
point, table rows and a heatmap day lead to; the "show all" toggle's effect. The Rust test asserts.
"""

import json
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
PAGES = ["overview", "tools", "agents", "experiments", "learners", "traces"]


def loaded(page):
    page.wait_for_selector("body[data-loaded=true]", timeout=60000)


def facts(page):
    return page.evaluate(
        """() => ({
        url: location.pathname + location.search,
        inputs: Object.fromEntries(["project", "from", "to"].map((n) => [n, document.getElementById("f-" + n).value])),
        nav: Object.fromEntries([...document.querySelectorAll("[data-nav]")].map((a) => [a.dataset.nav, a.getAttribute("href")])),
        text: document.body.innerText,
        charts: [...document.querySelectorAll(".chart")].map((c) => {
          const canvas = c.querySelector("canvas");
          const r = canvas ? canvas.getBoundingClientRect() : null;
          return {
            id: c.id, kind: c.dataset.chart || null, series: c.dataset.series || null, band: c.dataset.band || null,
            points: c.dataset.points ? Number(c.dataset.points) : null, text: c.innerText,
            container: c.clientWidth,
            css: r ? [r.width, r.height] : null,
            pixels: canvas ? [canvas.width / devicePixelRatio, canvas.height / devicePixelRatio] : null,
            stretched: !!c.querySelector('[preserveAspectRatio="none"]'),
          };
        }),
        overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      })"""
    )


def visit(context, url, errors):
    page = context.new_page()
    page.on("console", lambda m: errors.append(f"{m.text} ({m.location.get('url')})") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    loaded(page)
    return page


def walk(browser, case):
    base, query, shots = case["base"], case["query"], case["shots"]
    out = {"pages": [], "drill": {}, "show_all": None}
    for width in (1440, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        errors = []
        page = visit(context, base + "/analytics?" + query, errors)
        # Through every page by its nav link, back to the overview: the filters ride along.
        for name in PAGES[1:] + ["overview"]:
            here = facts(page)
            shown = page.evaluate("document.body.dataset.page")
            here.update(width=width, page=shown, errors=list(errors))
            page.screenshot(path=f"{shots}/dashboard-{shown}-{width}.png", full_page=True)
            out["pages"].append(here)
            errors.clear()
            with page.expect_navigation():
                page.click(f"[data-nav={name}]")
            loaded(page)
        here = facts(page)
        here.update(width=width, page="overview (again)", errors=list(errors))
        out["pages"].append(here)
        context.close()

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    errors = []
    page = visit(context, base + "/analytics?" + query, errors)
    box = page.locator("#chart-cost .u-over").bounding_box()
    at = lambda share: (box["x"] + box["width"] * share, box["y"] + box["height"] * 0.5)
    zoomed = lambda: page.get_attribute("#chart-cost", "data-zoomed")
    # Drag across a third of the chart: it zooms in (and stays on the page); a double-click resets.
    out["zoom"] = {"before": zoomed()}
    page.mouse.move(*at(0.3))
    page.mouse.down()
    page.mouse.move(*at(0.45), steps=5)
    page.mouse.move(*at(0.6), steps=5)
    page.mouse.up()
    out["zoom"]["dragged"] = zoomed()
    out["zoom"]["url_after_drag"] = page.evaluate("location.pathname")
    page.mouse.dblclick(*at(0.5))
    out["zoom"]["reset"] = zoomed()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_url("**/analytics/events**")
    out["drill"]["chart"] = page.url
    page = visit(context, base + "/analytics?" + query, errors)
    page.locator("#projects tbody tr").first.locator("td").nth(1).click()
    page.wait_for_url("**/analytics/events**")
    out["drill"]["project_row"] = page.url
    page = visit(context, base + "/analytics?" + query, errors)
    out["drill"]["model_first"] = page.locator("#models tbody tr").first.locator("td").first.inner_text()
    page.locator("#models tbody tr a.drill").first.click()
    page.wait_for_url("**/analytics/events**")
    out["drill"]["model_row"] = page.url
    page = visit(context, base + "/analytics/tools?" + query, errors)
    out["drill"]["tool_first"] = page.locator("#tools tbody tr").first.locator("td").first.inner_text()
    rows = page.locator("#risks tbody tr")
    visible = lambda: sum(1 for i in range(rows.count()) if rows.nth(i).is_visible())
    before = visible()
    toggle = page.locator("#risks button.show-all")
    has_toggle = toggle.count() == 1
    if has_toggle:
        toggle.click()
    out["show_all"] = {"rows": rows.count(), "visible_before": before, "visible_after": visible(), "toggle": has_toggle}
    page.locator("#tools tbody tr").first.locator("td").nth(2).click()
    page.wait_for_url("**/analytics/events**")
    out["drill"]["tool_row"] = page.url
    page = visit(context, base + "/analytics/agents?" + query, errors)
    out["drill"]["agent_first"] = page.locator("#agents tbody tr").first.locator("td").first.inner_text()
    page.locator("#agents tbody tr a.drill").first.click()
    page.wait_for_url("**/analytics/events**")
    out["drill"]["agent_row"] = page.url
    # A day of the learner's activity heatmap opens that day's sessions.
    page = visit(context, base + "/analytics/learners?" + query, errors)
    cell = page.locator("#learner-heatmap a[data-drill]").last
    out["drill"]["heatmap_day"] = cell.get_attribute("data-drill")
    cell.click()
    page.wait_for_url("**/analytics/events**")
    out["drill"]["heatmap"] = page.url
    # An anomaly of the forecast panel: marked on the chart, listed, and a link to its events.
    page = visit(context, base + "/analytics", errors)
    page.select_option("#series-metric", case["anomaly_metric"])
    link = page.locator("#series-insights a[data-anomaly]").first
    link.wait_for()
    out["anomaly"] = {
        "day": link.get_attribute("data-anomaly"),
        "marked": page.get_attribute("#chart-forecast", "data-anomalies"),
    }
    link.click()
    page.wait_for_url("**/analytics/events**")
    out["anomaly"]["url"] = page.url
    context.close()
    return out


def empty(browser, case):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    errors = []
    page = visit(context, case["base"] + "/analytics", errors)
    panel = page.locator("#getting-started")
    seen = {
        "panel": panel.count() == 1 and panel.is_visible(),
        "panel_text": panel.inner_text() if panel.count() else "",
        "kpis_visible": page.locator(".kpis").is_visible(),
        "link": page.locator("#getting-started a").first.get_attribute("href") if panel.count() else None,
        "text": page.evaluate("document.body.innerText"),
    }
    page.screenshot(path=f"{case['shots']}/dashboard-empty-1440.png", full_page=True)
    page.locator("#getting-started a").first.click()
    loaded(page)
    seen["docs_url"] = page.url
    seen["docs_text"] = page.evaluate("document.body.innerText")
    seen["errors"] = errors
    context.close()
    return seen


def main():
    case = json.load(sys.stdin)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            result = empty(browser, case) if case.get("empty") else walk(browser, case)
        finally:
            browser.close()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
