"""The site as readers meet it: every page of the TOC, opened in headless Chromium.

For each page: it loads with no console error and no failed request, asks nothing of any
other origin, every image decodes, equations are typeset by MathJax, the launch buttons
open the page's notebook in the configured repository, framework tabs switch together,
hidden answers open when clicked, and the page fits a 390 px phone screen.  The search
page finds every chapter.  Screenshots land in ``_build/screenshots/`` (desktop) and
``_build/screenshots/phone/``.

The site is served from ``_build/html`` (or ``$LESSON4_SITE``) on 127.0.0.1.  The browser
is Debian's ``chromium`` (``apt-get install chromium``), driven by Playwright; without it
these tests are skipped, except under CI (``CI=true``), where a missing browser fails.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

import page_content
from site_server import (
    CHROMIUM_ARGS,
    SiteServer,
    artifacts_dir,
    book_config,
    book_root,
    find_chromium,
    in_ci,
    is_notebook_page,
    page_source,
    site_dir,
    toc_pages,
)

try:
    from playwright.sync_api import sync_playwright
except ImportError as error:  # pragma: no cover - depends on the environment
    sync_playwright = None
    PLAYWRIGHT_MISSING = f"Playwright is not installed ({error}); install the project's dev extras"
else:
    PLAYWRIGHT_MISSING = ""

SITE = site_dir()
PAGES = toc_pages()
CHAPTERS = PAGES[1:]
CONFIG = book_config()
SCREENSHOTS = artifacts_dir(SITE) / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
IN_CI = in_ci()

# Every check skips when the site has not been built (``make book``); fails instead under CI.
pytestmark = pytest.mark.usefixtures("built_site")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    problem = PLAYWRIGHT_MISSING or (
        "" if chromium else "no Chromium browser found: install Debian's `chromium` package "
        "(sudo apt-get install chromium) or set $LESSON4_CHROMIUM"
    )
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true but the browser tests cannot run: {problem}", pytrace=False)
        pytest.skip(problem)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS))
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server():
    with SiteServer(SITE) as running:
        yield running


@dataclass
class PageLog:
    """What happened while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    requests: int = 0
    fonts: list[str] = field(default_factory=list)


@contextmanager
def open_page(browser, server, docname: str, viewport=DESKTOP, query: str = "", settle: bool = True,
              theme: str | None = None):
    """Open a page in a fresh browser context; requests to other origins are blocked and logged.

    ``settle`` waits for the network to go quiet (no request for 0.5 s) before going on.
    ``theme`` ("light" or "dark") is the mode a reader chose with the theme's switch.
    """
    context = browser.new_context(viewport=viewport, device_scale_factor=1,
                                  color_scheme=theme or "light")
    if theme:
        # what the theme's switch stores: the chosen mode, and the theme it resolves to
        context.add_init_script(f"localStorage.setItem('mode', '{theme}'); localStorage.setItem('theme', '{theme}')")
    log = PageLog()

    def route(route):
        url = route.request.url
        if url.startswith(server.origin + "/") or url.startswith(("data:", "blob:")):
            log.requests += 1
            if route.request.resource_type == "font":
                log.fonts.append(url.rsplit("/", 1)[-1])
            route.continue_()
        else:
            log.foreign_requests.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and log.console_errors.append(f"{m.text} ({m.location.get('url', '')})"))
    page.on("pageerror", lambda e: log.console_errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: log.failed_requests.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and log.failed_requests.append(f"{r.url}: HTTP {r.status}"))
    try:
        response = page.goto(server.url(docname) + query, wait_until="load")
        status = response.status if response else "no response"
        assert status == 200, f"{docname} did not load: HTTP {status}"
        if page_source(docname) is not None:
            title = page_content.expected_title(docname)
            assert page.title().startswith(f"{title} "), f"{docname} is titled {page.title()!r}, not {title!r}"
        if settle:
            page.wait_for_load_state("networkidle")
        wait_for_mathjax(page)
        yield page, log
    finally:
        context.close()


def wait_for_mathjax(page) -> None:
    """Wait until MathJax (when the page loads it) has typeset everything."""
    if page.evaluate("() => !document.querySelector('script[src*=\"mathjax\"]')"):
        return
    page.wait_for_function("() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise")
    page.evaluate("() => window.MathJax.startup.promise.then(() => true)")


#: Where Sphinx puts a page's own images (cell outputs, frame players); the theme's logos
#: and the launch buttons' icons come from _static/ and are not the page's content.
CONTENT_IMAGES = "/_images/"

IMAGE_STATE = """async () => {
    const images = [...document.images];
    for (const img of images) img.loading = 'eager';
    await Promise.all(images.map(img => img.decode().catch(() => null)));
    return images.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth, alt: img.alt}));
}"""

MATH_STATE = """() => ({
    sources: document.querySelectorAll('.math').length,
    in_article: document.querySelectorAll('article.bd-article .math').length,
    typeset: document.querySelectorAll('.math mjx-container').length,
    untypeset: [...document.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container'))
        .map(m => m.textContent.slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
})"""


STRAY_DOLLARS = """() => {
    // Text (outside code and outputs) that still shows a $: maths the Markdown parser missed.
    const skip = 'pre, code, kbd, samp, script, style, textarea, mjx-container, .cell_output, .output';
    const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
    const found = [];
    while (walker.nextNode()) {
        const node = walker.currentNode;
        if (node.textContent.includes('$') && !node.parentElement.closest(skip)) {
            found.push(node.parentElement.textContent.trim().replace(/\\s+/g, ' ').slice(0, 120));
        }
    }
    return found;
}"""


CODE_CELLS = "() => document.querySelectorAll('main div.cell div.cell_input').length"

WIDE_CODE = """() => [...document.querySelectorAll('main div.highlight pre')]
    .filter(pre => !pre.closest('.cell_output, .output') && pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => pre.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 80))"""


@dataclass
class Visit:
    """One page load at desktop width: everything the per-page tests look at."""

    log: PageLog
    images: list[dict]
    math: dict
    stray_dollars: list[str]
    wide_code: list[str]
    code_cells: int
    screenshot: Path

    @property
    def content_images(self) -> list[dict]:
        return [img for img in self.images if CONTENT_IMAGES in img["src"]]


@pytest.fixture(scope="module")
def visits(browser, server):
    cache: dict[str, Visit] = {}
    summary: dict[str, dict] = {}
    report = artifacts_dir(SITE) / "site_browser_report.json"

    def get(docname: str) -> Visit:
        if docname not in cache:
            with open_page(browser, server, docname) as (page, log):
                images = page.evaluate(IMAGE_STATE)
                math = page.evaluate(MATH_STATE)
                stray = page.evaluate(STRAY_DOLLARS)
                wide_code = page.evaluate(WIDE_CODE)
                code_cells = page.evaluate(CODE_CELLS)
                shot = SCREENSHOTS / f"{docname}.png"
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
            cache[docname] = Visit(log, images, math, stray, wide_code, code_cells, shot)
            summary[docname] = {
                "requests": log.requests,
                "images": len(images),
                "images_decoded": sum(img["width"] > 0 for img in images),
                "gifs": sum(img["src"].lower().split("?")[0].endswith(".gif") for img in images),
                "equations_typeset": math["typeset"],
                "console_errors": len(log.console_errors),
                "screenshot": str(shot),
            }
            report.write_text(json.dumps(summary, indent=2) + "\n")
        return cache[docname]

    return get


def page_param(docname: str):
    return pytest.param(docname, id=docname)


# --------------------------------------------------------------------------- every page


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_page_loads_without_console_errors_or_failed_requests(visits, docname):
    assert (SITE / f"{docname}.html").is_file(), f"{docname} is in _toc.yml but was not built"
    log = visits(docname).log
    assert log.requests > 0
    assert not log.console_errors, f"console errors on {docname}:\n  " + "\n  ".join(log.console_errors)
    assert not log.failed_requests, f"failed requests on {docname}:\n  " + "\n  ".join(log.failed_requests)


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_no_page_downloads_the_icon_font(visits, docname):
    # every icon is inline SVG or an SVG mask (scripts/optimize_site.py); the theme's icon font
    # weighs 157 KB, which a slow network would fetch while the text waits
    icon_fonts = [name for name in visits(docname).log.fonts if name.startswith("fa-")]
    assert not icon_fonts, f"{docname} downloads Font Awesome's font: {icon_fonts}"


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_page_requests_nothing_from_other_origins(visits, docname):
    foreign = visits(docname).log.foreign_requests
    assert not foreign, f"{docname} tried to load from outside the site:\n  " + "\n  ".join(foreign)


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_every_image_decodes(visits, docname):
    visit = visits(docname)
    broken = [img["src"] for img in visit.images if img["width"] <= 0]
    assert not broken, f"images on {docname} that did not decode: {broken}"
    expected = page_content.expected_images(docname)
    assert len(visit.content_images) == expected, (
        f"{docname} shows {len(visit.content_images)} images of its own; its source makes {expected}")


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_code_fits_its_box_on_a_desktop(visits, docname):
    """Code lines of up to 88 characters (tests/test_notebook_pairs.py) show without scrolling."""
    visit = visits(docname)
    expected = page_content.expected_code_cells(docname) if page_source(docname) else 0
    assert visit.code_cells == expected, f"{docname} shows {visit.code_cells} code cells; its source has {expected}"
    wide = visit.wide_code
    assert not wide, f"code blocks on {docname} that scroll sideways at desktop width, widest lines: {wide}"


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_desktop_screenshot_saved(visits, docname):
    shot = visits(docname).screenshot
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no usable screenshot at {shot}"


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_math_is_typeset(visits, docname):
    math = visits(docname).math
    expected = page_content.expected_formulas(docname)
    assert math["in_article"] == expected, f"{docname} shows {math['in_article']} formulas; its source has {expected}"
    assert not math["untypeset"], f"equations MathJax left untypeset on {docname}: {math['untypeset']}"
    assert not math["errors"], f"MathJax errors on {docname}: {math['errors']}"
    assert math["typeset"] >= math["sources"]


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_no_dollar_signs_left_in_the_text(visits, docname):
    stray = list(dict.fromkeys(visits(docname).stray_dollars))
    assert not stray, f"{docname} shows $ signs the maths parser did not turn into equations:\n  " + "\n  ".join(stray)


# --------------------------------------------------------------------------- launch buttons


def expected_launch_links(docname: str) -> dict[str, str]:
    repo_url = CONFIG["repository"]["url"].rstrip("/")
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(\.git)?", repo_url)
    assert match, f"repository.url in _config.yml is not a GitHub repository: {repo_url}"
    org, repo = match.group(1), match.group(2)
    branch = CONFIG["repository"].get("branch", "main")
    book = (CONFIG["repository"].get("path_to_book") or "").strip("/")
    # the reader notebook (plain Jupyter Markdown), not the MyST pair in chapters/
    reader = f"notebooks/{docname.rsplit('/', 1)[-1]}.ipynb"
    notebook = f"{book}/{reader}" if book else reader
    buttons = CONFIG["launch_buttons"]
    interface = "lab/tree" if buttons.get("notebook_interface") == "jupyterlab" else "tree"
    return {
        "notebook": notebook,
        "binder": f"{buttons['binderhub_url'].rstrip('/')}/v2/gh/{org}/{repo}/{branch}?urlpath={interface}/{quote(notebook)}",
        "colab": f"{buttons['colab_url'].rstrip('/')}/github/{org}/{repo}/blob/{branch}/{notebook}",
    }


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_launch_buttons_open_the_page_notebook(browser, server, docname):
    if not is_notebook_page(docname):
        pytest.skip(f"{docname} is not a notebook, so it has no launch buttons")
    expected = expected_launch_links(docname)
    assert (book_root() / expected["notebook"]).is_file(), f"the launch buttons need {expected['notebook']} in the repository"
    with open_page(browser, server, docname, settle=False) as (page, log):
        page.click(".dropdown-launch-buttons button")
        for name, host in (("binder", "mybinder"), ("colab", "colab")):
            links = page.locator(f".dropdown-launch-buttons a[href*='{host}']")
            assert links.count() == 1, f"{docname} has {links.count()} {name} launch links, expected 1"
            assert links.first.is_visible(), f"the {name} launch link of {docname} does not show when the menu opens"
            assert links.first.get_attribute("href") == expected[name]


# --------------------------------------------------------------------------- interactive parts


def has_framework_cells(docname: str) -> bool:
    source = page_source(docname)
    if source is None or source.suffix != ".md":
        return False
    text = source.read_text(encoding="utf-8")
    return bool(re.search(r":tags:.*\bpytorch\b", text)) and bool(re.search(r":tags:.*\btensorflow\b", text))


TAB_STATE = """() => [...document.querySelectorAll('.sd-tab-set')]
    .filter(set => set.querySelector('label[data-sync-group="framework"]'))
    .map(set => [...set.querySelectorAll(':scope > label.sd-tab-label')].map(label => ({
        id: label.dataset.syncId,
        checked: document.getElementById(label.htmlFor).checked,
        shown: label.nextElementSibling.getBoundingClientRect().height > 0,
    })))"""


def selected(tab_sets) -> list[str]:
    return [",".join(tab["id"] for tab in tabs if tab["checked"] and tab["shown"]) for tabs in tab_sets]


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_framework_tabs_switch_together(browser, server, docname):
    expect_tabs = has_framework_cells(docname)
    if 'data-sync-group="framework"' not in (SITE / f"{docname}.html").read_text(encoding="utf-8"):
        assert not expect_tabs, f"{docname} has cells tagged pytorch and tensorflow but no framework tabs"
        pytest.skip(f"{docname} has no framework tabs")
    with open_page(browser, server, docname, settle=False) as (page, log):
        tab_sets = page.evaluate(TAB_STATE)
        assert tab_sets, f"{docname} has framework tabs in its HTML but none on the page"
        for tabs in tab_sets:
            assert {tab["id"] for tab in tabs} == {"pytorch", "tensorflow"}, f"unexpected tabs {tabs}"
        assert selected(tab_sets) == ["pytorch"] * len(tab_sets), "PyTorch should be the first tab shown"
        sets = page.locator(".sd-tab-set:has(label[data-sync-group='framework'])")
        sets.first.locator("label[data-sync-id='tensorflow']").click()
        assert selected(page.evaluate(TAB_STATE)) == ["tensorflow"] * len(tab_sets), "tab sets did not follow TensorFlow"
        sets.last.locator("label[data-sync-id='pytorch']").click()
        assert selected(page.evaluate(TAB_STATE)) == ["pytorch"] * len(tab_sets), "tab sets did not follow PyTorch"
        assert not log.console_errors, log.console_errors


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_hidden_answers_open_on_click(browser, server, docname):
    if 'class="toggle' not in (SITE / f"{docname}.html").read_text(encoding="utf-8"):
        pytest.skip(f"{docname} has no hidden answers")
    with open_page(browser, server, docname, settle=False) as (page, log):
        answers = page.query_selector_all(".toggle")
        assert answers, f"{docname} has hidden answers in its HTML but none on the page"
        for index, answer in enumerate(answers):
            opener = answer.evaluate_handle(
                """el => el.closest('details.toggle-details')?.querySelector(':scope > summary')
                     || document.querySelector(`button.toggle-button[data-target="${el.id}"]`)"""
            ).as_element()
            assert opener is not None, f"hidden answer {index} of {docname} has no button to open it"
            assert not answer.is_visible(), f"hidden answer {index} of {docname} shows before it is clicked"
            opener.click()
            answer.wait_for_element_state("visible", timeout=5_000)
            assert answer.inner_text().strip(), f"hidden answer {index} of {docname} is empty"
        assert not log.console_errors, log.console_errors


# --------------------------------------------------------------------------- phone width

OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    // Content inside a box that scrolls sideways (code, wide equations) is fine as long
    // as the box itself fits, and so is a frame player's sheet of frames, which its player
    // clips to one frame; anything else must fit the screen on its own.
    const scrollBox = el => {
        for (let node = el; node && node !== document.body; node = node.parentElement) {
            if (['auto', 'scroll'].includes(getComputedStyle(node).overflowX)) return node;
            if (node.classList.contains('frame-player')) return node;
        }
        return el;
    };
    const offenders = [];
    const selector = 'main img, main pre, main table, main figure, main mjx-container, main .cell_output, main .sd-tab-set, main video, main iframe';
    for (const el of document.querySelectorAll(selector)) {
        const box = scrollBox(el).getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        if (box.left < -1 || box.right > width + 1) {
            offenders.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} spans ${Math.round(box.left)}..${Math.round(box.right)} px`);
        }
    }
    return {width, scrollWidth: document.documentElement.scrollWidth, offenders};
}"""


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_page_fits_a_phone_screen(browser, server, docname):
    with open_page(browser, server, docname, viewport=PHONE) as (page, log):
        state = page.evaluate(OVERFLOW)
        shot = SCREENSHOTS / "phone" / f"{docname}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        assert not log.console_errors, log.console_errors
    assert state["width"] == PHONE["width"]
    assert state["scrollWidth"] <= state["width"], (
        f"{docname} scrolls sideways on a {PHONE['width']} px screen ({state['scrollWidth']} px wide)"
    )
    assert not state["offenders"], f"{docname} has content wider than a phone screen:\n  " + "\n  ".join(state["offenders"])


# --------------------------------------------------------------------------- search


def page_title(docname: str) -> str:
    html = (SITE / f"{docname}.html").read_text(encoding="utf-8")
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, flags=re.DOTALL)
    assert match, f"{docname} has no <h1> title"
    text = re.sub(r"<[^>]+>", "", match.group(1))
    return re.sub(r"[#¶]", "", text).strip()


@pytest.mark.parametrize("docname", [page_param(p) for p in CHAPTERS])
def test_search_finds_the_chapter(browser, server, docname):
    words = re.findall(r"[A-Za-z][A-Za-z-]{4,}", page_title(docname))
    assert words, f"no searchable word in the title of {docname}"
    term = max(words, key=len)
    with open_page(browser, server, "search", query=f"?q={quote(term)}") as (page, log):
        page.wait_for_function(
            "() => { const s = document.querySelector('#search-results p.search-summary');"
            " return s && s.textContent.trim().length > 0; }",
            timeout=20_000,
        )
        hits = page.eval_on_selector_all("#search-results ul.search li a", "links => links.map(a => a.href)")
        assert not log.console_errors, log.console_errors
    wanted = f"{server.origin}/{docname}.html"
    assert any(hit.split("#")[0].split("?")[0] == wanted for hit in hits), (
        f"searching for {term!r} did not find {docname}; results: {hits}"
    )
