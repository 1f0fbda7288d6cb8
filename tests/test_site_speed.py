"""What makes the pages quick to show on a phone, checked without a browser (``make lighthouse``
measures the result; its timings depend on the machine's load, these checks do not).

On every page of the TOC, in the built site (``_build/html``, or ``$LESSON4_SITE``):

- the scripts and styles a browser must fetch and run before the first paint (style
  sheets, scripts in ``<head>`` that are neither deferred nor async, inline code there)
  stay under a budget of gzipped bytes, as GitHub Pages sends them;
- the theme's 542 KB (gzipped) icon script is not loaded: every icon is inline SVG;
- every ``<img>`` has a width and a height, so nothing jumps while images load, and the
  images below the first screen load lazily;
- every page has a meta description;
- the maths is typeset during the build, so no page loads MathJax and lays its text out
  again once it has run.

``scripts/optimize_site.py`` (run by ``make book``) is what makes these hold; the checks
of its own behaviour are at the end.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
import shutil
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest

from site_server import ROOT, in_ci, site_dir, toc_pages

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


def maths_typeset_during_build() -> bool:
    """Whether the build typeset the maths (it needs Node; under CI it must have)."""
    typeset = (SITE / optimize_site.MATHS_CSS).is_file()
    if in_ci():
        assert typeset, f"{optimize_site.MATHS_CSS} is missing: the build did not typeset the maths (is node installed?)"
    return typeset


@pytest.mark.parametrize("docname", [page_param(p) for p in PAGES])
def test_maths_is_typeset_during_the_build_and_no_page_loads_mathjax(docname):
    text = html_of(docname)
    head, body = text.split("</head>", 1)
    formulas = re.findall(r'<(span|div) class="math notranslate nohighlight">(.*?)</\1>', body, flags=re.DOTALL)
    loads = bool(re.search(r"mathjax/[\w.-]+\.js", head))
    if not maths_typeset_during_build():
        assert loads == bool(formulas), (
            f"{docname} {'has equations but does not load MathJax' if formulas else 'loads MathJax without any equation'}"
        )
        return
    assert not loads and "window.MathJax" not in head, f"{docname} still loads MathJax or its settings"
    untypeset = [inner[:60] for _, inner in formulas if not inner.startswith('<mjx-container class="MathJax" jax="CHTML"')]
    assert not untypeset, f"formulas on {docname} left as TeX: {untypeset[:3]}"
    unspoken = [inner[:60] for _, inner in formulas if "<mjx-assistive-mml" not in inner]
    assert not unspoken, f"formulas on {docname} without the MathML a screen reader reads: {unspoken[:3]}"
    links = bool(re.search(r'<link rel="stylesheet" href="[./]*_static/maths\.css"/>', head))
    assert links == bool(formulas), f"{docname} {'lacks' if formulas else 'has no formula but links'} the maths style sheet"


def test_the_maths_style_sheet_draws_every_glyph_from_the_served_fonts():
    if not maths_typeset_during_build():
        pytest.skip("the maths were typeset in the browser: node was not found when the site was built")
    css = (SITE / optimize_site.MATHS_CSS).read_text(encoding="utf-8")
    fonts = set(re.findall(r'url\("([^"]+\.woff)"\)', css))
    assert fonts, "the maths style sheet names no font"
    missing = [font for font in fonts if not (SITE / "_static" / font).is_file()]
    assert not missing, f"the maths style sheet names fonts the site does not serve: {missing}"
    used = set()
    for docname in PAGES:
        used.update(re.findall(r'<mjx-c class="mjx-c([0-9A-F]+)', html_of(docname)))
    undrawn = sorted(c for c in used if f".mjx-c{c}" not in css)
    assert not undrawn, f"characters the pages typeset that the style sheet does not draw: {undrawn[:10]}"


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


def test_head_without_mathjax_loses_its_settings_too(tmp_path):
    head = ('<head><script>window.MathJax = {"options": {}}</script>'
            '<script defer src="_static/mathjax/tex-chtml.js"></script><script>var kept = 1;</script>')
    page = tmp_path / "page.html"
    typeset = optimize_site.rewrite_head(head, page, has_maths=True, is_search=False, loads_mathjax=False)
    assert "MathJax" not in typeset and "var kept = 1;" in typeset
    in_browser = optimize_site.rewrite_head(head, page, has_maths=True, is_search=False)
    assert "window.MathJax" in in_browser and "tex-chtml.js" in in_browser


def test_formula_source_reads_what_sphinx_writes():
    assert optimize_site.formula_source("span", r"\(a &lt; b &amp; c\)") == ("a < b & c", False)
    assert optimize_site.formula_source("div", "\n\\[\\hat y = \\sigma(z)\\]\n") == (r"\hat y = \sigma(z)", True)
    with pytest.raises(optimize_site.SiteError, match="delimiters"):
        optimize_site.formula_source("div", r"\(x\)")


def needs_node():
    if shutil.which("node") is None:
        if in_ci():
            pytest.fail("node not found: the maths cannot be typeset during the build")
        pytest.skip("node not found: the build leaves the maths to MathJax in the browser")


def test_typeset_turns_tex_into_commonhtml_with_its_style_sheet():
    needs_node()
    formulas = [(r"H = \sigma(XW + b)", False), (r"\frac{\partial h_T}{\partial h_t} = J_T \cdots J_{t+1}", True)]
    rendered, css = optimize_site.typeset(SITE, formulas)
    inline, display = rendered[formulas[0]], rendered[formulas[1]]
    assert inline.startswith('<mjx-container class="MathJax" jax="CHTML"') and 'display="true"' not in inline
    assert 'display="true"' in display and "<mjx-mfrac>" in display
    assert 'tabindex="0"' in display and "tabindex" not in inline, "a displayed formula may scroll: the keyboard reaches it"
    assert "<mjx-assistive-mml" in inline and "<mi>σ</mi>" in inline, "the MathML copy should name sigma"
    glyphs = set(re.findall(r'<mjx-c class="(mjx-c[0-9A-F]+)', inline + display))
    assert "mjx-c1D70E" in glyphs, "sigma should be drawn as the italic sigma"
    assert all(f".{glyph}" in css for glyph in glyphs), "the style sheet should draw every glyph the formulas use"
    body = ('<p><span class="math notranslate nohighlight">\\(H = \\sigma(XW + b)\\)</span></p>')
    assert optimize_site.typeset_formulas(body, rendered) == f'<p><span class="math notranslate nohighlight">{inline}</span></p>'


def test_typeset_names_a_formula_mathjax_cannot_read():
    needs_node()
    with pytest.raises(optimize_site.SiteError, match=r"\\frac\{1\}"):
        optimize_site.typeset(SITE, [(r"\frac{1}", False)])


def test_admonition_icons_become_svg_masks_in_their_colour():
    table = optimize_site.icon_table(SITE / optimize_site.FONTAWESOME)
    sheet = ('html{--pst-icon-admonition-default:var(--pst-icon-bell);--pst-icon-admonition-tip:var(--pst-icon-lightbulb)}'
             '.admonition>.admonition-title:after{color:red;content:var(--pst-icon-admonition-default);'
             'font:var(--fa-font-solid);width:1rem}'
             '.tip>.admonition-title:after{color:green;content:var(--pst-icon-admonition-tip)}')
    out = optimize_site.admonition_icons_as_masks(sheet, table)
    assert "--fa-font-solid" not in out and "content:var(--pst-icon-admonition" not in out
    base, tip = re.findall(r"admonition-title:after\{([^}]*)\}", out)
    assert "color:red" in base and "background-color:currentColor" in base and "mask-size:contain" in base
    assert "color:green" in tip and 'content:"";' in tip
    lightbulb = quote(table[("fas", "lightbulb")].path)
    assert lightbulb in tip and lightbulb not in base, "each kind of admonition gets its own icon"
    with pytest.raises(optimize_site.SiteError, match="pencil-nib-nothing"):
        optimize_site.admonition_icons_as_masks(sheet.replace("var(--pst-icon-lightbulb)", "var(--pst-icon-pencil-nib-nothing)"), table)


def test_the_theme_draws_no_admonition_icon_with_its_font():
    sheet = (SITE / optimize_site.THEME_CSS).read_text(encoding="utf-8")
    assert "content:var(--pst-icon-admonition" not in sheet, "an admonition icon is still drawn with the icon font"
