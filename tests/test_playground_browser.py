"""The in-page playgrounds (browser/playground/) as readers meet them, in headless Chromium.

Every page whose source embeds a playground (a ``<div class="l4-playground">``) is opened
from ``file://`` with the network switched off; its playground must start, take a preset
from the URL fragment, train (one hidden layer of four tanh units reaches 95 % test accuracy
on the circles within 50 epochs), repeat a run exactly after a reset with the same seed,
answer the keyboard on every control with a visible focus ring, pass axe-core with nothing
serious in light and dark mode, fit a 390 px screen, and stay still until asked to move.  The
backpropagation page's step mode must show the numbers the page prints.

The site is ``_build/html`` (or ``$LESSON4_SITE``).  Without Chromium, Playwright or axe-core
these tests are skipped, except under CI (``CI=true``), where that fails.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from site_server import CHROMIUM_ARGS, artifacts_dir, find_chromium, in_ci, page_source, require_built_site, site_dir, toc_pages

from test_site_browser import PLAYWRIGHT_MISSING, sync_playwright

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SITE = site_dir()
SCREENSHOTS = artifacts_dir(SITE) / "screenshots" / "playground"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
CIRCLES = "data=circles;layers=1;units=4;act=tanh;lr=0.3;l2=0;batch=10;seed=1"


def embedded() -> dict[str, str]:
    """Every page that embeds a playground, with the playground's kind."""
    found = {}
    for docname in toc_pages():
        source = page_source(docname)
        text = source.read_text(encoding="utf-8") if source else ""
        match = re.search(r'class="l4-playground" data-kind="(\w+)"', text)
        if match:
            found[docname] = match.group(1)
    return found


PAGES = embedded()
MLP = [doc for doc, kind in PAGES.items() if kind == "mlp"]
TRAINABLE = [doc for doc, kind in PAGES.items() if kind in ("mlp", "perceptron")]
BACKPROP = [doc for doc, kind in PAGES.items() if kind == "backprop"]


def missing(problem: str):
    if in_ci():
        pytest.fail(f"CI=true but {problem}", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="module")
def browser():
    require_built_site()
    chromium = find_chromium()
    if PLAYWRIGHT_MISSING or not chromium:
        missing(PLAYWRIGHT_MISSING or "no Chromium browser found: install Debian's `chromium` or set $LESSON4_CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS))
        yield browser
        browser.close()


@contextmanager
def opened(browser, docname, fragment="", viewport=DESKTOP, theme="light", reduced_motion="no-preference"):
    """The page from file://, offline; yields (page, errors, requests outside the site folder)."""
    context = browser.new_context(viewport=viewport, offline=True, color_scheme=theme, reduced_motion=reduced_motion)
    context.add_init_script(f"localStorage.setItem('mode', '{theme}'); localStorage.setItem('theme', '{theme}')")
    errors, foreign = [], []
    site_url = SITE.as_uri() + "/"

    def route(route):
        url = route.request.url
        if url.startswith(site_url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            foreign.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{site_url}{docname}.html" + (f"#playground:{fragment}" if fragment else ""))
        page.wait_for_selector(".l4-pg", timeout=10_000)
        yield page, errors, foreign
    finally:
        context.close()


def summary(page) -> str:
    return page.locator(".l4-pg-summary").text_content()


def canvas_pixels(page) -> list[int]:
    """The first canvas's pixels, every 7th value: enough to see whether it changed."""
    return page.evaluate("""() => { const c = document.querySelector('.l4-pg canvas');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data).filter((_, i) => i % 7 === 0); }""")


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.\d+", text)]


@pytest.mark.parametrize("docname", list(PAGES))
def test_starts_from_file_offline_without_errors(browser, docname):
    with opened(browser, docname) as (page, errors, foreign):
        assert page.locator(".l4-pg").count() == 1, f"{docname}: the playground did not start"
        assert "could not start" not in page.locator(".l4-pg").text_content()
        assert not errors, f"{docname}: console errors from file://: {errors}"
        assert not foreign, f"{docname}: requests outside the site folder: {foreign}"
        if PAGES[docname] != "backprop":
            pixels = canvas_pixels(page)
            assert len(set(pixels)) > 10, f"{docname}: the boundary canvas is blank"


@pytest.mark.parametrize("docname", TRAINABLE)
def test_a_preset_in_the_fragment_is_applied(browser, docname):
    fragment = "data=xor;lr=0.5;seed=3" if PAGES[docname] == "perceptron" else \
        "data=spiral;layers=3;units=5;act=relu;lr=0.05;l2=0.001;batch=20;seed=4"
    with opened(browser, docname, fragment) as (page, _, _f):
        values = {key: page.locator(f".l4-pg [id$='-{key}']").input_value()
                  for key in re.findall(r"(\w+)=", fragment)}
        assert values == dict(part.split("=") for part in fragment.split(";")), values


@pytest.mark.parametrize("docname", MLP)
def test_one_hidden_layer_of_four_tanh_units_learns_the_circles(browser, docname):
    with opened(browser, docname, CIRCLES) as (page, _, _f):
        before, pixels = numbers(summary(page)), canvas_pixels(page)
        step = page.get_by_role("button", name="Step one epoch")
        for _ in range(50):
            step.click()
        after = summary(page)
        accuracy = int(re.search(r"test accuracy (\d+) %", after).group(1))
        assert after.startswith("Epoch 50"), after
        assert accuracy >= 95, f"{docname}: {after}"
        assert numbers(after)[0] < before[0] / 3, f"train loss did not fall: {before[0]} -> {after}"
        assert canvas_pixels(page) != pixels, "the boundary did not change with training"


@pytest.mark.parametrize("docname", TRAINABLE)
def test_reset_with_the_same_seed_repeats_the_run(browser, docname):
    name = "Step one epoch" if PAGES[docname] == "mlp" else "Run one pass"
    with opened(browser, docname, CIRCLES if PAGES[docname] == "mlp" else "data=circles;lr=1;seed=2") as (page, _, _f):
        runs = []
        for _ in range(2):
            for _ in range(5):
                page.get_by_role("button", name=name).click()
            runs.append(summary(page))
            page.get_by_role("button", name="Reset").click()
        assert runs[0] == runs[1], runs
        assert summary(page) != runs[0], "reset did not go back to the start"


@pytest.mark.parametrize("docname", list(PAGES))
def test_every_control_is_reached_and_operated_by_the_keyboard(browser, docname):
    with opened(browser, docname) as (page, _, _f):
        controls = page.evaluate("() => Array.from(document.querySelectorAll('.l4-pg select, .l4-pg input, .l4-pg button:not([disabled])'), e => e.id || e.textContent)")
        page.locator(".l4-pg").evaluate("root => root.setAttribute('tabindex', '-1')")
        page.locator(".l4-pg").focus()
        reached = []
        for _ in range(len(controls) + 3):
            page.keyboard.press("Tab")
            info = page.evaluate("""() => { const e = document.activeElement;
                const style = getComputedStyle(e);
                return {inside: !!e.closest('.l4-pg'), name: e.id || e.textContent,
                        ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2}; }""")
            if not info["inside"]:
                break
            assert info["ring"], f"{docname}: no visible focus ring on {info['name']}"
            reached.append(info["name"])
        assert set(controls) <= set(reached), f"{docname}: not reached by Tab: {set(controls) - set(reached)}"
        step = {"mlp": "Step one epoch", "perceptron": "Step one example", "backprop": "Next stage"}[PAGES[docname]]
        before = summary(page)
        page.get_by_role("button", name=step).focus()
        page.keyboard.press("Enter")
        assert summary(page) != before, f"{docname}: Enter on '{step}' did nothing"
        if PAGES[docname] != "backprop":
            before = summary(page)
            play = page.locator(".l4-pg button[aria-pressed]")
            play.focus()
            page.keyboard.press("Enter")
            assert play.get_attribute("aria-pressed") == "true", "Enter did not start the playground"
            page.wait_for_timeout(200)
            page.keyboard.press("Space")
            assert play.get_attribute("aria-pressed") == "false", "Space did not pause it"
            assert summary(page) != before, "playing did not train"
            select = page.locator(".l4-pg select").first
            start = select.input_value()
            select.focus()
            page.keyboard.press("ArrowDown")
            if select.input_value() == start:  # the last option was chosen
                page.keyboard.press("ArrowUp")
            assert select.input_value() != start, "the arrow keys did not change the data set"
            assert page.evaluate("() => location.hash").startswith("#playground:"), "a keyboard change did not reach the fragment"


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("docname", list(PAGES))
def test_axe_finds_nothing_serious_and_it_fits_a_phone(browser, docname, theme):
    if not AXE.is_file():
        missing(f"axe-core is not installed in {AXE.parent}: run `npm ci --prefix tests/axe` (make test does)")
    with opened(browser, docname, viewport=PHONE, theme=theme) as (page, _, _f):
        for button in ("Step one epoch", "Step one example", "Next stage"):
            if page.get_by_role("button", name=button).count():
                page.get_by_role("button", name=button).click()
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        found = page.evaluate("""async () => (await axe.run('.l4-pg', {resultTypes: ['violations']})).violations
            .filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))""")
        assert not found, f"{docname} ({theme}): {found}"
        overflow = page.locator(".l4-pg").evaluate("root => root.scrollWidth - root.clientWidth")
        assert overflow <= 1, f"{docname}: the playground is {overflow} px wider than a 390 px screen"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".l4-pg").screenshot(path=str(SCREENSHOTS / f"{docname.replace('/', '_')}-{theme}-phone.png"))


@pytest.mark.parametrize("docname", TRAINABLE)
def test_nothing_moves_by_itself_under_reduced_motion(browser, docname):
    with opened(browser, docname, reduced_motion="reduce") as (page, _, _f):
        playground = page.locator(".l4-pg").first  # the page's animations have Play buttons too
        first = playground.screenshot()
        page.wait_for_timeout(1000)
        assert playground.screenshot() == first, f"{docname}: the playground moved by itself"
        assert playground.get_by_role("button", name="Play").get_attribute("aria-pressed") == "false"
        playground.get_by_role("button", name="Play").click()  # a reader's own click still plays
        page.wait_for_timeout(300)
        playground.get_by_role("button", name="Pause").click()
        assert playground.get_by_role("button", name="Play").get_attribute("aria-pressed") == "false"


@pytest.mark.parametrize("docname", BACKPROP)
def test_step_mode_shows_the_numbers_the_page_prints(browser, docname):
    from lesson4_support import backprop

    with opened(browser, docname) as (page, _, _f):
        text = page.locator("main").text_content()
        printed = re.search(r"probabilities: \[([^\]]+)\]\s*loss: (\d+\.\d+)", text)
        assert printed, f"{docname}: the page no longer prints its probabilities and loss"
        for _ in range(4):
            page.get_by_role("button", name="Next stage").click()

        def table(name):
            return [float(v) for v in page.locator(f".l4-pg-matrix[data-name='{name}'] td").all_text_contents()]

        assert table("ŷ") == [float(v) for v in printed.group(1).split()]
        assert numbers(page.locator(".l4-pg-loss").text_content()) == [float(printed.group(2))]
        # the gradients, against the package's tested reference, on the chapter's network
        rng = np.random.default_rng(0)
        X = rng.normal(size=(4, 2))
        W1, b1 = rng.normal(size=(2, 3)), rng.normal(size=3) * 0.1
        W2, b2 = rng.normal(size=(3, 1)), np.zeros(1)
        _, grads = backprop.two_layer_gradients(X, np.array([[0.0], [1.0], [1.0], [0.0]]), W1, b1, W2, b2)
        for name, grad in grads.items():
            assert np.allclose(table(f"dL/d{name}"), grad.ravel(), atol=5e-5, rtol=0), name
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".l4-pg").screenshot(path=str(SCREENSHOTS / "backprop-stages.png"))
