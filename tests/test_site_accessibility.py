"""Reading comfort in Chromium: maths without stray scrollbars, dark mode, and an accessibility audit.

Every page of the table of contents is opened four times, in light and dark mode, at
1280 px (desktop) and 390 px (phone), and checked for:

- **maths**: no formula is wider than its box, inline (``span.math`` and its
  ``mjx-container``) or displayed, at 1280 px or at 390 px, so none shows a scrollbar on
  a desktop or makes a phone reader scroll sideways (a long display is written on
  several lines);
- **dark mode**: no console error, and every figure keeps a light background, so that
  black axes and labels never vanish into the dark page (text contrast is axe's
  ``color-contrast`` rule below);
- **accessibility**: axe-core, installed from npm at the version ``tests/axe/package-lock.json``
  pins (``make test`` runs ``npm ci`` there) and injected from disk, so the page fetches
  nothing, reports no serious or critical violation (the theme's and MyST-NB's controls
  whose names left out their visible text are fixed by ``_ext/accessible_names.py``).

Screenshots of chapter 06 in all four settings land in ``_build/screenshots/reading/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import page_content
from site_server import artifacts_dir, in_ci, site_dir, toc_pages
from test_site_browser import DESKTOP, PHONE, browser, open_page, server  # noqa: F401 - fixtures

SITE = site_dir()
PAGES = toc_pages()
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = artifacts_dir(SITE) / "screenshots" / "reading"
SHOWN_PAGE = "chapters/06_backpropagation"
SETTINGS = [("light", DESKTOP), ("light", PHONE), ("dark", DESKTOP), ("dark", PHONE)]

pytestmark = pytest.mark.usefixtures("built_site")

MATH_BOXES = """() => {
    const tooWide = el => el.scrollWidth > el.clientWidth;
    const describe = el => el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60);
    const inline = [...document.querySelectorAll('main span.math')]
        .flatMap(span => [span, ...span.querySelectorAll(':scope > mjx-container')])
        .filter(tooWide).map(el => `${el.tagName.toLowerCase()} "${describe(el)}" `
            + `${el.scrollWidth} px of content in ${el.clientWidth} px`);
    const display = [...document.querySelectorAll('main div.math > mjx-container')]
        .filter(tooWide).map(el => ({text: describe(el), content: el.scrollWidth, box: el.clientWidth,
                                     scrolls: ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)}));
    return {inline, display, count: document.querySelectorAll('article.bd-article .math').length};
}"""

FIGURE_BACKGROUNDS = """async () => {
    // The colour a reader sees behind each figure's corners: the image's own pixel where
    // it is opaque, else the nearest background behind it.
    const backgroundOf = el => {
        for (let node = el; node; node = node.parentElement) {
            const colour = getComputedStyle(node).backgroundColor;
            const parts = colour.match(/[\\d.]+/g).map(Number);
            if (parts.length < 4 || parts[3] > 0) return parts.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const luminance = ([r, g, b]) => {
        const linear = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    };
    const found = [];
    // The page's own images (Sphinx copies them to _images/), not the theme's icons.
    for (const img of [...document.querySelectorAll('article.bd-article img')].filter(i => i.src.includes('/_images/'))) {
        img.loading = 'eager';  // an image below the first screen loads lazily: fetch it now
        await img.decode().catch(() => null);
        if (!img.naturalWidth) {
            found.push({src: img.src.split('/').pop(), luminance: null});
            continue;
        }
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(img, 0, 0);
        const behind = backgroundOf(img.parentElement);
        const corners = [[0, 0], [canvas.width - 1, 0], [0, canvas.height - 1], [canvas.width - 1, canvas.height - 1]];
        const seen = corners.map(([x, y]) => {
            const [r, g, b, a] = context.getImageData(x, y, 1, 1).data;
            return [0, 1, 2].map(i => ([r, g, b][i] * a + behind[i] * (255 - a)) / 255);
        });
        // The theme dims images in dark mode (brightness .8); what the reader sees is dimmer still.
        const filter = getComputedStyle(img).filter;
        const brightness = filter.includes('brightness') ? Number(filter.match(/brightness\\(([\\d.]+)\\)/)[1]) : 1;
        found.push({src: img.src.split('/').pop(), luminance: Math.min(...seen.map(luminance)) * brightness ** 2.2});
    }
    return found;
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        problem = f"axe-core is not installed in {AXE.parent}: run `npm ci --prefix tests/axe` (make test does)"
        if in_ci():
            pytest.fail(f"CI=true but {problem}", pytrace=False)
        pytest.skip(problem)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def readings(browser, server, axe_source):  # noqa: F811 - the fixtures imported above
    """Each page in each setting, opened once: what the tests below look at."""
    cache: dict[tuple, dict] = {}

    def get(docname: str, theme: str, viewport: dict) -> dict:
        key = (docname, theme, viewport["width"])
        if key not in cache:
            with open_page(browser, server, docname, viewport=viewport, theme=theme) as (page, log):
                state = {"theme": page.evaluate("() => document.documentElement.dataset.theme"),
                         "math": page.evaluate(MATH_BOXES),
                         "figures": page.evaluate(FIGURE_BACKGROUNDS)}
                page.add_script_tag(content=axe_source)
                state["axe"] = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
                    .violations.filter(v => ['serious', 'critical'].includes(v.impact))
                    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                                targets: v.nodes.map(n => n.target.join(' '))}))""")
                if docname == SHOWN_PAGE:
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    shot = SCREENSHOTS / f"{docname.split('/')[-1]}-{theme}-{viewport['width']}.png"
                    page.screenshot(path=str(shot), full_page=True)
                state["console_errors"] = list(log.console_errors)
            cache[key] = state
        return cache[key]

    return get


def setting_params():
    return [pytest.param(doc, theme, viewport, id=f"{doc.split('/')[-1]}-{theme}-{viewport['width']}")
            for doc in PAGES for theme, viewport in SETTINGS]


@pytest.mark.parametrize("docname, theme, viewport", setting_params())
def test_every_formula_fits_its_box_on_a_desktop_and_on_a_phone(readings, docname, theme, viewport):
    math = readings(docname, theme, viewport)["math"]
    expected = page_content.expected_formulas(docname)
    assert math["count"] == expected, f"{docname} shows {math['count']} formulas; its source has {expected}"
    assert not math["inline"], f"inline formulas wider than their box on {docname}:\n  " + "\n  ".join(math["inline"])
    assert not math["display"], (
        f"displayed formulas wider than their box at {viewport['width']} px on {docname} "
        f"(write a long one on several lines): {math['display']}"
    )


@pytest.mark.parametrize("docname, theme, viewport", setting_params())
def test_page_is_in_the_requested_mode_without_console_errors(readings, docname, theme, viewport):
    reading = readings(docname, theme, viewport)
    assert reading["theme"] == theme
    assert not reading["console_errors"], f"console errors on {docname} ({theme}):\n  " + "\n  ".join(reading["console_errors"])


@pytest.mark.parametrize("docname, theme, viewport", [p for p in setting_params() if p.values[1] == "dark"])
def test_figures_keep_a_light_background_in_dark_mode(readings, docname, theme, viewport):
    figures = readings(docname, theme, viewport)["figures"]
    expected = page_content.expected_images(docname)
    assert len(figures) == expected, f"{docname} shows {len(figures)} images of its own; its source makes {expected}"
    undecoded = [figure["src"] for figure in figures if figure["luminance"] is None]
    assert not undecoded, f"images on {docname} that did not decode: {undecoded}"
    dark = [f"{figure['src']} (relative luminance {figure['luminance']:.2f})" for figure in figures
            if figure["luminance"] < 0.4]
    assert not dark, f"figures that blend into the dark page on {docname}:\n  " + "\n  ".join(dark)


def serious(violations: list[dict]) -> list[str]:
    return [f"{violation['impact']} {violation['id']} ({violation['help']}): " + ", ".join(violation["targets"][:5])
            for violation in violations]


@pytest.mark.parametrize("docname, theme, viewport", setting_params())
def test_no_serious_accessibility_violations(readings, docname, theme, viewport):
    found = serious(readings(docname, theme, viewport)["axe"])
    assert not found, f"axe-core on {docname} ({theme}, {viewport['width']} px):\n  " + "\n  ".join(found)


def test_chapter_06_screenshots_in_both_modes_at_both_widths(readings):
    for theme, viewport in SETTINGS:
        readings(SHOWN_PAGE, theme, viewport)
        shot = SCREENSHOTS / f"06_backpropagation-{theme}-{viewport['width']}.png"
        assert shot.is_file() and shot.stat().st_size > 10_000, f"no usable screenshot at {shot}"
