"""What makes the pages quick to show on a phone, checked without a browser (``make lighthouse``
measures the result; its timings depend on the machine's load, these checks do not).

On every page of the TOC, in the built site (``_build/html``, or ``$LESSON4_SITE``):

- the scripts and styles a browser must fetch and run before the first paint (style
  sheets, scripts in ``<head>`` that are neither deferred nor async, inline code there)
  stay under a budget of gzipped bytes, as GitHub Pages sends them;
- the theme's 542 KB (gzipped) icon script is not loaded: every icon is inline SVG;
- every ``<img>`` has a width and a height, so nothing jumps while images load, and the
  images below the first screen load lazily;
- every page has a meta description.

``scripts/optimize_site.py`` (run by ``make book``) is what makes these hold; the checks
of its own behaviour are at the end.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from site_server import ROOT, site_dir, toc_pages

SITE = site_dir()
PAGES = toc_pages()

# Every check skips when the site has not been built (``make book``); fails instead under CI.
pytestmark = pytest.mark.usefixtures("built_site")

#: Gzipped bytes a page may make the browser fetch before its first paint.  Measured
#: December 2026: 73 kB on every page once the site is optimized (the theme's style sheets,
#: 49 kB of it one sheet), 135 kB before (the search index and its tools, six scripts and
#: the whole icon-font sheet).  The margin leaves room for a few more styles, not a script.
BLOCKING_BUDGET_GZIP_BYTES = 80_000

spec = importlib.util.spec_from_file_location("optimize_site", ROOT / "scripts" / "optimize_site.py")
optimize_site = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = optimize_site
spec.loader.exec_module(optimize_site)

TAG = optimize_site.TAG
attributes = optimize_site.attributes


def page_param(docname: str):
    return pytest.param(docname, id=docname)


@lru_cache(maxsize=None)
def html_of(docname: str) -> str:
    path = SITE / f"{docname}.html"
    assert path.is_file(), f"{docname} is in _toc.yml but was not built"
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def local_file(docname: str, url: str) -> Path:
    target = (SITE / docname).parent / unquote(urlsplit(url).path)
    assert target.is_file(), f"{docname} loads {url}, which is not in the site"
    return target


def blocking_resources(docname: str) -> list[tuple[str, int]]:
    """What the browser fetches or runs before the first paint, with its gzipped size."""
    text = html_of(docname)
    head = text[: text.index("</head>")]
    found = []
    for tag in re.findall(rf"<link\s{TAG}>", head):
        attrs = attributes(tag)
        rel = (attrs.get("rel") or "").lower().split()
        if "stylesheet" in rel and (attrs.get("media") or "all") in ("all", "screen") and "disabled" not in attrs:
            found.append((attrs["href"], gzipped_size(local_file(docname, attrs["href"]))))
    for opening, body in re.findall(rf"<(script(?:\s{TAG})?)>(.*?)</script>", head, flags=re.DOTALL):
        attrs = attributes(f"<{opening}>")
        kind = (attrs.get("type") or "text/javascript").lower()
        if kind not in ("text/javascript", "application/javascript") or "defer" in attrs or "async" in attrs:
            continue
        src = attrs.get("src")
        if src is None:
            found.append(("inline script", len(gzip.compress(body.encode(), compresslevel=6))))
        elif not src.startswith("data:"):
            found.append((src, gzipped_size(local_file(docname, src))))
    for body in re.findall(r"<style\b[^>]*>(.*?)</style>", head, flags=re.DOTALL):
        found.append(("inline style", len(gzip.compress(body.encode(), compresslevel=6))))
    return found


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_what_blocks_the_first_paint_stays_within_budget(docname):
    resources = blocking_resources(docname)
    total = sum(size for _, size in resources)
    listing = "\n  ".join(f"{size / 1e3:7.1f} kB  {name}" for name, size in sorted(resources, key=lambda r: -r[1]))
    assert total <= BLOCKING_BUDGET_GZIP_BYTES, (
        f"{docname} makes the browser fetch {total / 1e3:.1f} kB (gzipped) of scripts and styles before "
        f"its first paint, over the {BLOCKING_BUDGET_GZIP_BYTES / 1e3:.0f} kB budget:\n  {listing}"
    )


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_icons_are_inline_svg_not_the_icon_script(docname):
    text = html_of(docname)
    assert "fontawesome.js" not in text, f"{docname} still loads the theme's Font Awesome script"
    waiting = [m.group(0) for m in re.finditer(rf"<(?:i|span)\s{TAG}>", text)
               if re.search(r'class="[^"]*\bfa-(?:solid|regular|brands)\b|class="(?:[^"]*\s)?fa[sbr]?\s', m.group(0))]
    assert not waiting, f"{docname} has icons only the Font Awesome script would draw: {waiting[:5]}"


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_every_image_has_its_width_and_height(docname):
    images = [attributes(tag) for tag in re.findall(rf"<img\s{TAG}>", html_of(docname))]
    missing = [img.get("src") for img in images if not (img.get("width") and img.get("height"))]
    assert not missing, f"images on {docname} without width and height (the page jumps as they load): {missing}"


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_images_below_the_first_screen_load_lazily(docname):
    text = html_of(docname)
    content = [attributes(tag) for tag in re.findall(rf"<img\s{TAG}>", text[text.index("<article"):])]
    eager = [img.get("src") for img in content[1:] if img.get("loading") != "lazy"]
    assert not eager, f"images on {docname} below its first one load before they are scrolled to: {eager}"


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_every_page_has_a_meta_description(docname):
    found = re.findall(r'<meta name="description" content="([^"]*)"', html_of(docname))
    assert len(found) == 1, f"{docname} has {len(found)} meta descriptions, expected 1"
    assert 40 <= len(found[0]) <= 160, f"the meta description of {docname} is {len(found[0])} characters long: {found[0]!r}"


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_maths_loads_only_where_there_are_equations(docname):
    text = html_of(docname)
    head, body = text.split("</head>", 1)
    has_maths = 'class="math' in body
    loads = bool(re.search(r"mathjax/[\w.-]+\.js", head))  # the script; its settings are on every page
    assert loads == has_maths, (
        f"{docname} {'has equations but does not load MathJax' if has_maths else 'loads MathJax without any equation'}"
    )


# --------------------------------------------------------------------------- the rewriting step


def test_icon_table_knows_the_icons_of_the_theme():
    table = optimize_site.icon_table(SITE / optimize_site.FONTAWESOME)
    for key in (("fab", "github"), ("fas", "magnifying-glass"), ("fas", "sun"), ("fas", "home")):
        assert key in table, f"{key} missing from the icons read from the theme's script"
    assert table[("fas", "home")].name == "house", "aliases should lead to the icon they name"


def test_head_scripts_are_deferred_or_copied_in_and_unneeded_ones_dropped(tmp_path):
    static = tmp_path / "_static"
    static.mkdir()
    (static / "documentation_options.js").write_text("const DOCUMENTATION_OPTIONS = {};")
    (static / "theme.js").write_text("// " + "x" * optimize_site.INLINE_BYTES)
    head = (
        '<head><script data-cfasync="false">document.documentElement.dataset.mode="light";</script>'
        '<script src="_static/documentation_options.js?v=1"></script>'
        '<script src="_static/theme.js"></script>'
        "<script>DOCUMENTATION_OPTIONS.pagename = 'x';</script>"
        '<script type="module" src="_static/player.js"></script>'
        '<script src="_static/scripts/fontawesome.js" defer></script>'
        '<script src="searchindex.js"></script>'
        '<script defer src="_static/mathjax/tex-chtml.js"></script>'
    )
    page = tmp_path / "page.html"
    out = optimize_site.rewrite_head(head, page, has_maths=False, is_search=False)
    scripts = re.findall(r"<script[^>]*>", out)
    assert scripts[0] == '<script data-cfasync="false">', "the light/dark script must still run first"
    assert "<script>const DOCUMENTATION_OPTIONS = {};</script>" in out, "a small script is copied into the page"
    assert scripts[2] == '<script src="_static/theme.js" defer>'
    assert scripts[3] == "<script>", "inline code stays where it was"
    assert scripts[4] == '<script type="module" src="_static/player.js">', "module scripts are left as they are"
    assert len(scripts) == 5, f"icon script, search index and unused MathJax should be gone: {scripts}"
    with_maths = optimize_site.rewrite_head(head, page, has_maths=True, is_search=True)
    assert "searchindex.js" in with_maths, "the search page keeps its index"
    assert "addEventListener('load'" in with_maths and "tex-chtml.js" in with_maths, "MathJax loads after the page"
