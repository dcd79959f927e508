"""Reads the period comparisons the dashboard shows, in Debian's Chromium driven by Playwright.

Input (stdin, JSON): {"base": URL, "query": "from=..&to=..&compare=previous", "then": "wow"}.
Output: for the page as loaded, then after choosing `then` in the Compare selector: the
URL, the selector's value (and, for the whole walk, console errors and failed requests), the nav links, the KPI cards' changes (figure, text, relative
change, outlook class), the periods line, the projects table's headers and first row's
change cells, and console errors. The Rust test asserts.
"""

import json
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def loaded(page):
    page.wait_for_selector("body[data-loaded=true]", timeout=60000)


def seen(page):
    return page.evaluate(
        """() => ({
        url: location.pathname + location.search,
        compare: document.getElementById("f-compare").value,
        compare_visible: !document.getElementById("f-compare").closest("label").hidden,
        nav: Object.fromEntries([...document.querySelectorAll("[data-nav]")].map((a) => [a.dataset.nav, a.getAttribute("href")])),
        kpis: [...document.querySelectorAll(".kpi-delta .delta")].map((d) => ({
          figure: d.dataset.figure, text: d.textContent, relative: d.dataset.relative,
          status: d.dataset.status, classes: d.className,
          card: d.closest(".card").querySelector(".kpi-value").id,
        })),
        periods: document.getElementById("compare-periods").textContent,
        project_headers: [...document.querySelectorAll("#projects th")].map((th) => th.textContent),
        project_changes: [...document.querySelectorAll("#projects tbody tr:first-child .delta")].map((d) => ({
          figure: d.dataset.figure, text: d.textContent, classes: d.className,
        })),
        first_project: (document.querySelector("#projects tbody tr:first-child td") || {}).textContent || null,
      })"""
    )


def main():
    case = json.load(sys.stdin)
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            failed = []
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(case["base"] + "/analytics?" + case["query"])
            loaded(page)
            out["loaded"] = seen(page)
            page.evaluate("document.body.dataset.loaded = 'false'")
            page.select_option("#f-compare", case["then"])
            loaded(page)
            out["chosen"] = seen(page)
            out["errors"] = errors
            out["failed"] = failed
            context.close()
        finally:
            browser.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
