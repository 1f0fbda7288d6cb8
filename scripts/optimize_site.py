"""Make the built site quick to show on a phone: rewrite every page of ``_build/html`` in place.

``make book`` runs this after ``jupyter-book build``.  What it changes, page by page:

- **icons**: the theme draws about a dozen Font Awesome icons with ``fontawesome.js``
  (1.5 MB, 542 KB gzipped), which swaps each ``<i class="fa-solid fa-sun">`` for an SVG
  once it has run.  Each such element is replaced here by that same SVG, its path taken
  from the theme's own copy of the script, and the script is no longer loaded;
- **maths**: every formula is typeset here, once, by the MathJax the site serves, run in
  Node (``scripts/render_maths.js``), into the CommonHTML MathJax makes in a browser, with
  its hidden MathML for screen readers; one style sheet (``_static/maths.css``) carries
  the glyphs of every formula, and no page loads MathJax.  Without Node (``CI=true``
  makes that an error), MathJax is loaded instead, only on pages that have equations and
  only once the page has loaded and been painted, so it never delays the first paint;
- **search**: the search index and its tools are loaded by the search page alone (the
  search box of every page sends the reader there), no longer by every page;
- **scripts**: every other script in ``<head>`` runs deferred, in its original order, or,
  when under 1 KB, is copied into the page;
- **images**: every ``<img>`` gets the ``width`` and ``height`` of its file, so the page
  does not jump while it loads; images below the first screen load lazily;
- **description**: a ``<meta name="description">`` from the page's first paragraph;
- **styles**: the theme's style sheet loses the rules that drew each of Font Awesome's
  1,881 icons with its font (16 KB gzipped), except those the site still names, and draws
  the icon in each admonition's title as an SVG mask, so no page downloads the 157 KB
  icon font (on a slow network it competed with the text for the connection).

Running it twice changes nothing the second time.  Usage::

    python scripts/optimize_site.py [_build/html]
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
#: Folders of the build that hold assets, not pages.
ASSET_FOLDERS = {"_static", "_sources", "_images", "_downloads"}
#: The theme's icon script, relative to the site.
FONTAWESOME = "_static/scripts/fontawesome.js"
#: The theme's style sheet, which also carries Font Awesome's rules for its icon font.
THEME_CSS = "_static/styles/pydata-sphinx-theme.css"
#: The MathJax the site serves (sphinx-mathjax-offline copies it there), relative to the site.
MATHJAX_DIR = "_static/mathjax"
#: The style sheet of the typeset maths, relative to the site, and its fonts relative to it.
MATHS_CSS = "_static/maths.css"
MATHS_FONTS = "mathjax/output/chtml/fonts/woff-v2"
#: The Node program that typesets formulas with that MathJax.
RENDER_MATHS = ROOT / "scripts" / "render_maths.js"
#: A formula as Sphinx writes it: TeX between \( \) in a span, between \[ \] in a div.
FORMULA = re.compile(r'<(span|div) class="math notranslate nohighlight">(.*?)</\1>', re.DOTALL)
#: Scripts only the search page needs.
SEARCH_SCRIPTS = ("searchtools.js", "language_data.js", "searchindex.js")
#: Scripts up to this size are copied into the page rather than fetched.
INLINE_BYTES = 1024
#: Characters of text a phone shows above an image before it is pushed below the first screen.
FIRST_SCREEN_CHARS = 600
#: Longest meta description, in characters (search engines show about this many).
DESCRIPTION_CHARS = 155
#: Class prefixes that name an icon style, not an icon.
ICON_STYLES = {
    "fa-solid": "fas", "fas": "fas", "fa-regular": "far", "far": "far",
    "fa-brands": "fab", "fab": "fab", "fa": "fas",
}
#: Font Awesome classes that are not icon names (sizes, widths, animations).
ICON_MODIFIERS = re.compile(
    r"fa-(?:2xs|xs|sm|lg|xl|2xl|\d+x|fw|li|border|inverse|pull-\w+|rotate-\w+|flip\w*|spin\w*|"
    r"beat\w*|fade|bounce|shake|pulse|stack\w*|layers\w*)"
)

TAG = r"(?:[^>\"']|\"[^\"]*\"|'[^']*')*"
ATTRIBUTE = re.compile(r"([^\s=/>]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
MARKER = "<!-- rewritten by scripts/optimize_site.py -->"


class SiteError(RuntimeError):
    """The built site is not what this step expects (a theme upgrade changed it, say)."""


# --------------------------------------------------------------------------- HTML helpers


def attributes(tag: str) -> dict[str, str | None]:
    """The attributes of one start tag, values unescaped (``None`` for a bare attribute)."""
    inner = re.sub(r"^<\w+|/?>$", "", tag)
    found: dict[str, str | None] = {}
    for name, raw in ATTRIBUTE.findall(inner):
        value = raw[1:-1] if raw[:1] in ("\"", "'") else raw
        found[name.lower()] = html.unescape(value) if raw else None
    return found


def start_tag(name: str, attrs: dict[str, str | None]) -> str:
    parts = [name]
    for key, value in attrs.items():
        parts.append(key if value is None else f'{key}="{html.escape(value, quote=True)}"')
    return "<" + " ".join(parts) + ">"


def text_of(fragment: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    fragment = re.sub(r"<(script|style)\b.*?</\1>", " ", fragment, flags=re.DOTALL | re.IGNORECASE)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


# --------------------------------------------------------------------------- icons


@dataclass(frozen=True)
class Icon:
    name: str
    prefix: str
    width: int
    height: int
    path: str


ICON_ENTRY = re.compile(
    r'(?:"([\w-]+)"|([A-Za-z_$][\w$]*)):\[(\d+),(\d+),\[([^\]]*)\],"[0-9a-f]+",("(?:[^"\\]|\\.)*")\]'
)
ICON_SET_END = re.compile(r'\w\("(fa[bsr])",\w\)')


@lru_cache(maxsize=None)
def icon_table(script: Path) -> dict[tuple[str, str], Icon]:
    """Every icon of the theme's Font Awesome script, by (style prefix, name or alias)."""
    text = script.read_text(encoding="utf-8")
    table: dict[tuple[str, str], Icon] = {}
    start = 0
    for end in ICON_SET_END.finditer(text):
        prefix = end.group(1)
        for entry in ICON_ENTRY.finditer(text, start, end.start()):
            name = entry.group(1) or entry.group(2)
            path = entry.group(6)[1:-1].encode().decode("unicode_escape")
            icon = Icon(name, prefix, int(entry.group(3)), int(entry.group(4)), path)
            table[(prefix, name)] = icon
            for alias in re.findall(r'"([\w-]+)"', entry.group(5)):
                table.setdefault((prefix, alias), icon)
        start = end.end()
    if not {"fab", "fas"} <= {prefix for prefix, _ in table}:
        raise SiteError(f"no solid and brand icons found in {script}: has the theme changed how it ships Font Awesome?")
    return table


@lru_cache(maxsize=None)
def icon_css(script: Path) -> str:
    """Font Awesome's own rules for inline SVG icons (``.svg-inline--fa``), taken from its script."""
    text = script.read_text(encoding="utf-8")
    rules = re.findall(r"([^{}\"]*\.svg-inline--fa[^{}\"]*)\{([^{}\"]*)\}", text)
    kept = [f"{selector.strip()}{{{body}}}" for selector, body in rules
            if "fa-layers" not in selector and "fa-li" not in selector and "fa-pull" not in selector]
    if not kept:
        raise SiteError(f"no .svg-inline--fa rules found in {script}")
    return "".join(dict.fromkeys(kept))


ICON_ELEMENT = re.compile(rf"<(i|span)(\s{TAG})>\s*</\1>")


def icon_svg(match: re.Match, table: dict, page: Path, counter: list[int]) -> str:
    """The SVG Font Awesome's script would put in place of one ``<i>``/``<span>`` icon element."""
    attrs = attributes(f"<{match.group(1)}{match.group(2)}>")
    classes = (attrs.get("class") or "").split()
    prefix = next((ICON_STYLES[c] for c in classes if c in ICON_STYLES), None)
    if prefix is None:
        return match.group(0)
    names = [c[3:] for c in classes if c.startswith("fa-") and c not in ICON_STYLES and not ICON_MODIFIERS.fullmatch(c)]
    icon = next((table[(prefix, n)] for n in names if (prefix, n) in table), None)
    if icon is None:
        raise SiteError(f"{page}: no Font Awesome icon {prefix} {names} in the theme's script")
    title = attrs.pop("title", None)
    attrs.pop("aria-hidden", None)
    kept = [c for c in classes if c not in ICON_STYLES]
    svg = {"class": " ".join(dict.fromkeys(["svg-inline--fa", f"fa-{icon.name}", *kept]))}
    if title:
        counter[0] += 1
        title_id = f"svg-inline--fa-title-{counter[0]}"
        svg.update({"role": "img", "aria-labelledby": title_id})
    else:
        svg["aria-hidden"] = "true"
    svg.update({"focusable": "false", "data-prefix": icon.prefix, "data-icon": icon.name})
    svg.update({k: v for k, v in attrs.items() if k != "class"})
    svg.update({"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {icon.width} {icon.height}"})
    inner = f'<title id="{title_id}">{html.escape(title)}</title>' if title else ""
    return f'{start_tag("svg", svg)}{inner}<path fill="currentColor" d="{icon.path}"></path></svg>'


# --------------------------------------------------------------------------- head scripts

SCRIPT = re.compile(rf"<script(\s{TAG})?>(.*?)</script>", re.DOTALL | re.IGNORECASE)

#: Loads MathJax once the page has loaded and been painted, so typesetting never delays the
#: first paint, even where a busy processor paints late (after 3 s it loads regardless:
#: a page opened in a background tab is not painted until it is shown).
MATHJAX_LOADER = (
    "(function(){var done=false;function go(){if(done)return;done=true;"
    "var s=document.createElement('script');s.src=%s;s.id='MathJax-script';document.head.appendChild(s);}"
    "window.addEventListener('load',function(){"
    "if(performance.getEntriesByType('paint').length)return go();"
    "try{new PerformanceObserver(go).observe({type:'paint'});}catch(e){go();}"
    "setTimeout(go,3000);});})();"
)


def rewrite_head(head: str, page: Path, has_maths: bool, is_search: bool, loads_mathjax: bool | None = None) -> str:
    """Defer the head's scripts; drop the icon script and, where unused, MathJax and search.

    ``loads_mathjax`` (by default ``has_maths``) says whether the page still needs MathJax:
    not where its formulas were typeset during the build.  Without it, MathJax's settings
    go too.

    Inline scripts stay where they are and run at once: they set values (the light/dark
    mode, the toggle button's texts, MathJax's settings) that the deferred scripts read
    when they start.  The one they build on, ``documentation_options.js``, is small
    enough to be copied into the page in its place, like every script under
    ``INLINE_BYTES``: a round trip on a slow network costs more than its bytes.
    """
    if loads_mathjax is None:
        loads_mathjax = has_maths
    out: list[str] = []
    position = 0
    for match in SCRIPT.finditer(head):
        out.append(head[position:match.start()])
        position = match.end()
        attrs = attributes(f"<script{match.group(1) or ''}>")
        src = attrs.get("src")
        kind = (attrs.get("type") or "text/javascript").lower()
        if src is None and not loads_mathjax and match.group(2).lstrip().startswith("window.MathJax"):
            continue  # settings for a MathJax this page does not load
        if src is None or kind not in ("text/javascript", "application/javascript"):
            out.append(match.group(0))  # inline code, modules (deferred already), data
            continue
        path = urlsplit(src).path
        name = path.rsplit("/", 1)[-1]
        if name == FONTAWESOME.rsplit("/", 1)[-1] or (not is_search and name in SEARCH_SCRIPTS):
            continue
        if "mathjax" in path.lower():
            if loads_mathjax:
                out.append(f"<script>{MATHJAX_LOADER % repr(src)}</script>")
            continue
        if "async" in attrs or "defer" in attrs:
            out.append(match.group(0))
            continue
        target = (page.parent / unquote(path)).resolve()
        if not src.startswith("data:") and target.is_file() and target.stat().st_size <= INLINE_BYTES:
            code = target.read_text(encoding="utf-8")
            if "</script" not in code.lower():
                out.append(f"<script>{code}</script>")
                continue
        attrs["defer"] = None
        out.append(start_tag("script", attrs) + "</script>")
    out.append(head[position:])
    return "".join(out)


# --------------------------------------------------------------------------- images

IMG = re.compile(rf"<img\s{TAG}>", re.IGNORECASE)


@lru_cache(maxsize=None)
def image_size(path: Path) -> tuple[int, int]:
    """Width and height of an image file, in CSS pixels (SVG: its width/height or viewBox)."""
    if path.suffix.lower() == ".svg":
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        svg = re.search(r"<svg\b[^>]*>", head, re.DOTALL)
        if not svg:
            raise SiteError(f"{path} has no <svg> element")
        attrs = attributes(svg.group(0))
        width, height = (re.fullmatch(r"\s*([\d.]+)(px|pt)?\s*", attrs.get(k) or "") for k in ("width", "height"))
        if width and height:
            scale = 4 / 3 if width.group(2) == "pt" else 1
            return round(float(width.group(1)) * scale), round(float(height.group(1)) * scale)
        box = (attrs.get("viewbox") or "").replace(",", " ").split()
        if len(box) != 4:
            raise SiteError(f"{path} gives neither a width and height nor a viewBox")
        return round(float(box[2])), round(float(box[3]))
    with Image.open(path) as image:
        return image.size


def rewrite_images(page: Path, text: str, article_start: int) -> str:
    """Give every image its size; images of the article below the first screen load lazily."""
    out: list[str] = []
    position = 0
    first_content_image = True
    for match in IMG.finditer(text):
        out.append(text[position:match.start()])
        position = match.end()
        attrs = attributes(match.group(0))
        src = attrs.get("src") or ""
        if "width" not in attrs or "height" not in attrs:
            if src.startswith("data:image/") and ";base64," in src[:60]:
                with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as image:
                    width, height = image.size
            elif re.match(r"^[a-z][a-z0-9+.-]*:|^//", src, re.IGNORECASE):
                raise SiteError(f"{page}: cannot read the size of <img src={src[:60]!r}>: give it width and height")
            else:
                target = (page.parent / unquote(urlsplit(src).path)).resolve()
                if not target.is_file():
                    raise SiteError(f"{page}: <img> {src} points at a missing file")
                width, height = image_size(target)
            attrs.setdefault("width", str(width))
            attrs.setdefault("height", str(height))
        if match.start() > article_start and "loading" not in attrs:
            above = len(text_of(text[article_start:match.start()]))
            if not (first_content_image and above < FIRST_SCREEN_CHARS):
                attrs["loading"] = "lazy"
                attrs.setdefault("decoding", "async")
            first_content_image = False
        out.append(start_tag("img", attrs))
    out.append(text[position:])
    return "".join(out)


# --------------------------------------------------------------------------- description

PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.DOTALL)


def description(text: str) -> str:
    """The article's first real paragraph (else the page title), shortened at a word."""
    article = re.search(r"<article\b", text)
    for match in PARAGRAPH.finditer(text, article.start() if article else 0):
        body = re.sub(r'<span class="math[^"]*">\\\((.*?)\\\)</span>', r"\1", match.group(1), flags=re.DOTALL)
        words = text_of(body)
        if len(words) >= 40:
            if len(words) > DESCRIPTION_CHARS:
                words = words[: DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
            return words
    title = re.search(r"<title>(.*?)</title>", text, re.DOTALL)
    return text_of(title.group(1)) if title else ""


# --------------------------------------------------------------------------- maths


def formula_source(element: str, inner: str) -> tuple[str, bool]:
    """``(TeX, display)`` of one formula as Sphinx wrote it (``element`` is span or div)."""
    text = html.unescape(inner).strip()
    display = element == "div"
    opening, closing = (r"\[", r"\]") if display else (r"\(", r"\)")
    if not (text.startswith(opening) and text.endswith(closing)):
        raise SiteError(f"a formula without its {opening} {closing} delimiters: {text[:80]!r}")
    return text[2:-2].strip(), display


def typeset(site: Path, formulas: list[tuple[str, bool]]) -> tuple[dict[tuple[str, bool], str], str] | None:
    """Each formula's CommonHTML and the style sheet for all of them; None without Node."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            raise SiteError("node not found: the maths cannot be typeset during the build (install nodejs)")
        print("optimize_site: node not found, so MathJax typesets the maths in the browser", file=sys.stderr)
        return None
    mathjax = site / MATHJAX_DIR
    if not (mathjax / "node-main.js").is_file():
        raise SiteError(f"{mathjax / 'node-main.js'} is missing: is sphinx-mathjax-offline still installed?")
    request = json.dumps([{"tex": tex, "display": display} for tex, display in formulas])
    done = subprocess.run([node, str(RENDER_MATHS), str(mathjax), MATHS_FONTS], input=request,
                          capture_output=True, text=True, encoding="utf-8")
    if done.returncode != 0:
        raise SiteError(f"typesetting the maths failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    if result["errors"]:
        wrong = "\n".join(f"  {e['tex']!r}: {e['message']}" for e in result["errors"])
        raise SiteError(f"MathJax cannot read {len(result['errors'])} formulas:\n{wrong}")
    return dict(zip(formulas, result["html"], strict=True)), result["css"]


def page_formulas(body: str) -> list[tuple[str, bool]]:
    return [formula_source(m.group(1), m.group(2)) for m in FORMULA.finditer(body)]


def typeset_formulas(body: str, rendered: dict[tuple[str, bool], str]) -> str:
    """``body`` with every formula replaced by its typeset form, inside the same element."""
    def swap(match: re.Match) -> str:
        element = match.group(1)
        typeset_html = rendered[formula_source(element, match.group(2))]
        return f'<{element} class="math notranslate nohighlight">{typeset_html}</{element}>'
    return FORMULA.sub(swap, body)


# --------------------------------------------------------------------------- one page


def optimize_page(page: Path, site: Path, rendered: dict | None = None) -> bool:
    """Rewrite one page; False when there was nothing to do.

    ``rendered`` maps each formula (TeX, display) to its typeset HTML; without it the page
    loads MathJax (after its first paint) to typeset its formulas in the browser.
    """
    text = page.read_text(encoding="utf-8")
    head_end = text.find("</head>")
    if MARKER in text or head_end < 0:
        return False  # rewritten already, or a redirect (index.html) with nothing to rewrite
    script = site / FONTAWESOME
    if not script.is_file():
        raise SiteError(f"{script} is missing: run this on a site built by `jupyter-book build`")
    table = icon_table(script)

    head, body = text[:head_end], text[head_end:]
    has_maths = bool(re.search(r'class="math\b', body))
    head = rewrite_head(head, page, has_maths=has_maths, is_search=page.name == "search.html",
                        loads_mathjax=has_maths and rendered is None)
    if has_maths and rendered is not None:
        body = typeset_formulas(body, rendered)
        sheet = posixpath.join(Path(os.path.relpath(site, page.parent)).as_posix(), MATHS_CSS)
        head += f'<link rel="stylesheet" href="{posixpath.normpath(sheet)}"/>\n'
    # Font Awesome's script put its rules first in <head>, so that the theme's own rules win
    # over them (the light/dark switch hides two of its three icons); so do these.
    first_sheet = re.search(r"<link\b[^>]*\bstylesheet\b", head)
    at = first_sheet.start() if first_sheet else len(head)
    style = f"<style>{icon_css(script)}:where(img[width][height]){{height:auto}}</style>\n"
    head = head[:at] + style + head[at:] + MARKER + "\n"
    if 'name="description"' not in head:
        summary = html.escape(description(text), quote=True)
        head += f'<meta name="description" content="{summary}"/>\n'
    counter = [0]
    body = ICON_ELEMENT.sub(lambda m: icon_svg(m, table, page, counter), body)
    article = re.search(r"<article\b", body)
    body = rewrite_images(page, body, article.start() if article else len(body))
    page.write_text(head + body, encoding="utf-8")
    return True


ICON_GLYPH_RULE = re.compile(r'\.fa-([\w-]+):before\{content:"[^"]*"\}')
#: The theme names each admonition's icon twice over: --pst-icon-admonition-note:var(--pst-icon-info-circle).
ADMONITION_ICON = re.compile(r"--pst-icon-admonition-([\w-]+):var\(--pst-icon-([\w-]+)\)")
#: A rule of the theme's style sheet that draws an admonition's icon with the icon font.
ADMONITION_RULE = re.compile(r"(?<=[{}])([^{}@]+)\{([^{}]*content:var\(--pst-icon-admonition-([\w-]+)\)[^{}]*)\}")


def admonition_icons_as_masks(text: str, table: dict[tuple[str, str], Icon]) -> str:
    """The theme's style sheet ``text`` with each admonition icon drawn as an SVG mask in its colour."""
    names = dict(ADMONITION_ICON.findall(text))
    if not names:
        raise SiteError("the theme's style sheet names no admonition icons: has the theme changed them?")

    def as_mask(match: re.Match) -> str:
        selector, body, kind = match.groups()
        icon = table.get(("fas", names.get(kind, "")))
        if icon is None:
            raise SiteError(f"no solid Font Awesome icon {names.get(kind)!r} for the {kind!r} admonition")
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {icon.width} {icon.height}">'
               f'<path d="{icon.path}"/></svg>')
        image = f'url("data:image/svg+xml,{quote(svg)}")'
        body = body.replace(f"content:var(--pst-icon-admonition-{kind})", f"content:\"\";-webkit-mask-image:{image};mask-image:{image}")
        body = body.replace("font:var(--fa-font-solid)", "background-color:currentColor;-webkit-mask-repeat:no-repeat;"
                            "mask-repeat:no-repeat;-webkit-mask-position:center;mask-position:center;"
                            "-webkit-mask-size:contain;mask-size:contain")
        return f"{selector}{{{body}}}"

    rewritten, count = ADMONITION_RULE.subn(as_mask, text)
    if count == 0:
        raise SiteError("the theme's style sheet has no admonition icon rule: has the theme changed them?")
    return rewritten


def trim_theme_css(site: Path) -> None:
    """Rewrite the theme's style sheet so that it no longer needs Font Awesome's font.

    The sheet carries one rule for each of Font Awesome's 1,881 icons (16 KB of its 65 KB
    gzipped, all of it fetched before the first paint); here the icons are inline SVG, so
    only the rules for names that a page or a script of the site still mentions are kept.
    The admonitions' icons, drawn with the font, become SVG masks.
    """
    sheet = site / THEME_CSS
    if not sheet.is_file():
        raise SiteError(f"{sheet} is missing: has the theme renamed its style sheet?")
    mentioned: set[str] = set()
    for path in [*site_pages(site), *(site / "_static").rglob("*.js")]:
        if path.name != Path(FONTAWESOME).name:
            mentioned.update(re.findall(r"\bfa-([\w-]+)", path.read_text(encoding="utf-8", errors="replace")))
    text = sheet.read_text(encoding="utf-8")
    trimmed = ICON_GLYPH_RULE.sub(lambda m: m.group(0) if m.group(1) in mentioned else "", text)
    if "--pst-icon-admonition-" in trimmed and "mask-image:url(\"data:image/svg+xml," not in trimmed:
        trimmed = admonition_icons_as_masks(trimmed, icon_table(site / FONTAWESOME))
    sheet.write_text(trimmed, encoding="utf-8")


def site_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not (set(p.relative_to(site).parts[:-1]) & ASSET_FOLDERS))


def optimize_site(site: Path) -> int:
    """Rewrite every page of the site; the number of pages changed."""
    if not (site / "index.html").is_file():
        raise SiteError(f"{site / 'index.html'} is missing: build the site first (`make book`)")
    texts = {page: page.read_text(encoding="utf-8") for page in site_pages(site)}
    pages = [page for page, text in texts.items() if MARKER not in text]
    formulas = list(dict.fromkeys(f for page in pages for f in page_formulas(texts[page])))
    rendered = None
    if formulas:
        typeset_maths = typeset(site, formulas)
        if typeset_maths is not None:
            rendered, css = typeset_maths
            (site / MATHS_CSS).write_text(css, encoding="utf-8")
    changed = sum(optimize_page(page, site, rendered) for page in pages)
    trim_theme_css(site)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", type=Path, default=ROOT / "_build" / "html", help="the built HTML folder")
    args = parser.parse_args(argv)
    try:
        changed = optimize_site(args.site.resolve())
    except SiteError as error:
        print(f"optimize_site: {error}", file=sys.stderr)
        return 1
    print(f"optimize_site: {changed} pages of {args.site} made lighter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
