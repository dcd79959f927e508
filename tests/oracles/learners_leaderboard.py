"""Reads the learners page's leaderboard and achievements catalogue in Debian's Chromium,
driven by Playwright.

Input (stdin, JSON): {"url": the page's URL}. Output: the leaderboard's rows (cells as
text), the catalogue's row count, and console errors. The Rust test asserts.
"""

import json
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def main():
    case = json.load(sys.stdin)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(case["url"])
            page.wait_for_selector("body[data-loaded=true]", timeout=60000)
            out = page.evaluate(
                """() => ({
                leaderboard: [...document.querySelectorAll("#leaderboard tbody tr")].map((tr) =>
                  [...tr.querySelectorAll("td")].map((td) => td.textContent)),
                catalogue: document.querySelectorAll("#catalogue tbody tr").length,
              })"""
            )
            out["errors"] = errors
        finally:
            browser.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
