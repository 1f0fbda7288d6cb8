"""Code cells fit their box in a desktop window that shows a classic scrollbar.

Playwright starts Chromium with ``--hide-scrollbars``, so the other browser tests lay pages
out in the full 1280 px.  A reader on Windows or Linux has a classic scrollbar that takes
15 px of that width; these checks start Chromium without the switch, so every page is laid
out in the width such a reader has, and no code cell may scroll sideways in it.
"""

from __future__ import annotations

import pytest

from site_server import CHROMIUM_ARGS, find_chromium, in_ci, site_dir, toc_pages
from test_site_browser import DESKTOP, PLAYWRIGHT_MISSING, WIDE_CODE, open_page, server, sync_playwright  # noqa: F401

SITE = site_dir()
PAGES = toc_pages()

pytestmark = pytest.mark.usefixtures("built_site")


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    problem = PLAYWRIGHT_MISSING or ("" if chromium else "no Chromium browser found")
    if problem:
        if in_ci():
            pytest.fail(f"CI=true but the browser tests cannot run: {problem}", pytrace=False)
        pytest.skip(problem)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS),
                                             ignore_default_args=["--hide-scrollbars"])
        yield browser
        browser.close()


def test_the_window_shows_a_classic_scrollbar(browser, server):  # noqa: F811
    with open_page(browser, server, PAGES[1]) as (page, log):
        inner, client = page.evaluate("() => [window.innerWidth, document.documentElement.clientWidth]")
    assert inner == DESKTOP["width"] and client < inner, (
        f"the page is {client} px wide in a {inner} px window: the scrollbar takes no room, so this "
        "test does not see what a desktop reader with a classic scrollbar sees")


@pytest.mark.parametrize("docname", PAGES, ids=[doc.split("/")[-1] for doc in PAGES])
def test_code_fits_its_box_beside_a_scrollbar(browser, server, docname):  # noqa: F811
    with open_page(browser, server, docname) as (page, log):
        wide = page.evaluate(WIDE_CODE)
        page_width = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert not wide, f"code that scrolls sideways on {docname} in a 1280 px window with a scrollbar:\n  " + "\n  ".join(wide)
    assert page_width <= 0, f"{docname} scrolls sideways by {page_width} px in a 1280 px window with a scrollbar"
