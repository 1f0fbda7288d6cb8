"""Write the site's offline downloads: the whole lesson as one PDF, and the reader notebooks as one zip.

    python scripts/make_downloads.py        # after `jupyter-book build`; `make book` runs it

Both land in the built site, where the landing page links to them:

- ``_build/html/lesson4.pdf``: every page of the table of contents in order, with its
  figures and typeset maths, a title page, a table of contents with page numbers, and a
  page number at the foot of every page.  It is printed by the Chromium the browser
  tests use (through Playwright), from one long document assembled out of the built
  pages' articles: no navigation, buttons or sidebars.  Framework tabs are printed one
  after the other under their names, hidden answers are printed under "Answer", code
  hidden on the site stays hidden, and each animation (a frame player on the site) becomes
  a strip of four of its frames (first to last).  Chromium cannot number a table of contents by itself, so the
  document is printed twice: the first print shows on which page each chapter starts
  (read back with ``pdftotext``), the second carries those numbers.
- ``_build/html/lesson4-notebooks.zip``: the reader notebooks of ``notebooks/``, the same
  files the site's download buttons give one at a time, with fixed timestamps so that the
  same notebooks always give the same zip.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml
from bs4 import BeautifulSoup
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from site_server import CHROMIUM_ARGS, SiteServer, find_chromium, toc_pages  # noqa: E402

SITE = ROOT / "_build" / "html"
PDF_NAME = "lesson4.pdf"
ZIP_NAME = "lesson4-notebooks.zip"
PRINT_PAGE = "_lesson4-print"  # written into the site while printing, removed after
STRIP_FRAMES = 4
# The site's own stylesheets, so that code, outputs, admonitions and figures look as they do there.
#: The style sheet of the maths that scripts/optimize_site.py typeset during the build.
MATHS_CSS = "_static/maths.css"
STYLESHEETS = ["_static/styles/theme.css", "_static/styles/bootstrap.css",
               "_static/styles/pydata-sphinx-theme.css", "_static/pygments.css",
               "_static/styles/sphinx-book-theme.css", "_static/sphinx-design.min.css",
               "_static/lesson4.css", MATHS_CSS]

PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html { font-size: 11pt; }
body { background: white; color: #1a1a1a; margin: 0; }
.print-title { height: 240mm; display: flex; flex-direction: column; justify-content: center; }
.print-title h1 { font-size: 2.2rem; line-height: 1.2; margin-bottom: 1.5rem; }
.print-title p { color: #444; }
.print-toc { break-before: page; }
.print-toc ol { list-style: none; padding: 0; }
.print-toc li { display: flex; align-items: baseline; margin: 0.35rem 0; }
.print-toc li.part { font-weight: 600; margin-top: 1rem; }
.print-toc li a { color: inherit; text-decoration: none; }
.print-toc li .dots { flex: 1; border-bottom: 1px dotted #888; margin: 0 0.4rem; }
.print-page { break-before: page; }
.print-page h1 { font-size: 1.8rem; }
h1, h2, h3 { break-after: avoid; }
pre { font-size: 8pt; white-space: pre-wrap; overflow-wrap: anywhere; overflow: visible !important; max-height: none !important; }
div.cell_output, div.output { max-height: none !important; overflow: visible !important; }
figure, img, .cell_output img, table { break-inside: avoid; }
img { max-width: 100% !important; height: auto; }
.print-tab-label { font-weight: 600; margin: 0.8rem 0 0.2rem; color: #444; }
.print-answer { font-weight: 600; margin: 0.4rem 0 0.1rem; }
.print-strip-note { font-size: 0.85rem; color: #555; }
a { color: #1a4f8b; }
"""

FOOTER = ('<div style="width:100%;font-size:8pt;color:#555;text-align:center;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


class DownloadError(RuntimeError):
    """The downloads cannot be made from this build."""


class ToolMissing(DownloadError):
    """Chromium or pdftotext is not installed."""


# --------------------------------------------------------------------------- the pages


def part_captions(toc: Path) -> dict[str, str]:
    """The caption of each part of ``_toc.yml``, keyed by the part's first page."""
    parts = yaml.safe_load(toc.read_text()).get("parts", [])
    return {str(part["chapters"][0]["file"]): part["caption"] for part in parts if part.get("caption")}


def page_key(docname: str) -> str:
    return "p-" + re.sub(r"[^A-Za-z0-9]+", "-", docname)


def sprite_frames(path: Path, count: int, columns: int, rows: int) -> list[Image.Image]:
    """The ``count`` frames of a frame player's sprite sheet (``_ext/frame_player.py``)."""
    with Image.open(path) as image:
        sheet = image.convert("RGB")
    width, height = sheet.width // columns, sheet.height // rows
    return [sheet.crop(((i % columns) * width, (i // columns) * height,
                        (i % columns + 1) * width, (i // columns + 1) * height)) for i in range(count)]


def frame_strip(frames: list[Image.Image]) -> str:
    """A PNG data URI of ``STRIP_FRAMES`` of ``frames``, first to last, side by side."""
    count = len(frames)
    picks = sorted({round(i * (count - 1) / (STRIP_FRAMES - 1)) for i in range(STRIP_FRAMES)})
    frames = [frames[index] for index in picks]
    gap = 12
    width = sum(frame.width for frame in frames) + gap * (len(frames) - 1)
    strip = Image.new("RGB", (width, max(frame.height for frame in frames)), "white")
    left = 0
    for frame in frames:
        strip.paste(frame, (left, 0))
        left += frame.width + gap
    buffer = io.BytesIO()
    strip.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def printable_article(site: Path, docname: str, docnames: set[str]) -> tuple[str, str]:
    """The page's article, rewritten to stand inside one printed document: (title, HTML)."""
    soup = BeautifulSoup((site / f"{docname}.html").read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article")
    if article is None:
        raise DownloadError(f"{docname}.html has no article: was it built by Jupyter Book?")
    folder = posixpath.dirname(docname)
    key = page_key(docname)

    for hidden in article.select("a.headerlink, details.hide.above-input, script, button"):
        hidden.decompose()
    for tab_set in article.select("div.sd-tab-set"):
        for radio in tab_set.select("input"):
            radio.decompose()
        for label in tab_set.select("label.sd-tab-label"):
            label.name, label.attrs = "p", {"class": ["print-tab-label"]}
    for answer in article.select("div.toggle"):
        title = soup.new_tag("p", attrs={"class": "print-answer"})
        title.string = "Answer"
        answer.insert(0, title)

    for element in article.find_all(id=True):
        element["id"] = f"{key}--{element['id']}"
    for link in article.select("a[href]"):
        href = link["href"]
        if re.match(r"^[a-z]+:", href):
            continue
        target, _, fragment = href.partition("#")
        if not target:
            link["href"] = f"#{key}--{fragment}"
            continue
        other = posixpath.normpath(posixpath.join(folder, target)).removesuffix(".html")
        if other in docnames:
            link["href"] = f"#{page_key(other)}--{fragment}" if fragment else f"#{page_key(other)}"
        else:
            link["href"] = posixpath.normpath(posixpath.join(folder, href))
    for player in article.select("div.frame-player"):
        sheet = player.select_one("img.frame-player-sheet")
        src = posixpath.normpath(posixpath.join(folder, sheet["src"]))
        frames = sprite_frames(site / src, len(json.loads(player["data-frames"])),
                               int(player["data-columns"]), int(player["data-rows"]))
        image = soup.new_tag("img", attrs={"src": frame_strip(frames), "alt": sheet.get("alt", "")})
        note = soup.new_tag("p", attrs={"class": "print-strip-note"})
        note.string = f"(An animation on the site; here {STRIP_FRAMES} of its frames, first to last.)"
        player.replace_with(image)
        image.insert_after(note)
    for playground in article.select("div.l4-playground"):
        note = soup.new_tag("p", attrs={"class": "print-strip-note"})
        note.string = ("(An interactive playground on the site: open this page there to train the "
                       "network in the browser.)")
        playground.replace_with(note)
    for extra in article.select("p.l4-pg-presets, link"):  # preset links and styles work only on the site
        extra.decompose()
    for image in article.select("img[src]"):
        if not image["src"].startswith("data:"):
            image["src"] = posixpath.normpath(posixpath.join(folder, image["src"]))
        image.attrs.pop("loading", None)
    heading = article.find("h1")
    title = heading.get_text(" ", strip=True) if heading else docname
    return title, f'<section class="print-page" id="{key}">{article.decode_contents()}</section>'


def mathjax_scripts(site: Path, docname: str) -> str:
    """MathJax, with the settings of a built page, where the build left the maths to the browser.

    Where the build typeset the maths (``MATHS_CSS`` exists), the pages carry it typeset
    already and nothing is needed.
    """
    if (site / MATHS_CSS).is_file():
        return ""
    text = (site / f"{docname}.html").read_text(encoding="utf-8")
    found = re.search(r"window\.MathJax = (\{.*?\})</script>", text)
    settings = found.group(1) if found else "{}"
    return f'<script>window.MathJax = {settings};</script>\n<script defer src="_static/mathjax/tex-chtml.js"></script>'


def printable_articles(site: Path) -> list[tuple[str, str, str]]:
    """``(docname, title, section HTML)`` for every page of the table of contents, in order."""
    pages = toc_pages()
    names = set(pages)
    return [(docname, *printable_article(site, docname, names)) for docname in pages]


def print_document(site: Path, articles: list, captions: dict[str, str], title: str, subtitle: str,
                   page_numbers: dict[str, int]) -> str:
    """The whole lesson as one HTML page: title page, contents (with ``page_numbers``), articles."""
    toc_items = []
    for docname, page_title, _ in articles:
        if docname in captions:
            toc_items.append(f'<li class="part">{captions[docname]}</li>')
        number = page_numbers.get(docname, "")
        toc_items.append(f'<li><a href="#{page_key(docname)}">{page_title}</a>'
                         f'<span class="dots"></span><span class="toc-page">{number}</span></li>')
    links = "\n".join(f'<link rel="stylesheet" href="{sheet}">' for sheet in STYLESHEETS if (site / sheet).is_file())
    return f"""<!DOCTYPE html>
<html lang="en" data-theme="light"><head><meta charset="utf-8"><title>{title}</title>
{links}
<style>{PRINT_CSS}</style>
{mathjax_scripts(site, articles[0][0])}
</head><body><main id="main-content" class="bd-main"><div class="bd-content"><div class="bd-article-container">
<section class="print-title"><h1>{title}</h1><p>{subtitle}</p></section>
<nav class="print-toc"><h2>Contents</h2><ol>{''.join(toc_items)}</ol></nav>
{''.join(html for _, _, html in articles)}
</div></div></main></body></html>"""


# --------------------------------------------------------------------------- printing


def print_pdf(url: str, target: Path, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.goto(url, wait_until="load")
            if page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
                page.evaluate("() => MathJax.startup.promise.then(() => true)")
            page.evaluate("() => Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
            page.pdf(path=str(target), format="A4", print_background=True, display_header_footer=True,
                     header_template="<div></div>", footer_template=FOOTER,
                     margin={"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"})
        finally:
            browser.close()


def pdf_pages_text(pdf: Path) -> list[str]:
    if shutil.which("pdftotext") is None:
        raise ToolMissing("pdftotext not found: install Debian's poppler-utils (apt-get install poppler-utils)")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")


def chapter_start_pages(pages_text: list[str], articles: list) -> dict[str, int]:
    """The page (1-based) on which each page of the lesson starts: the first page, after the
    contents, whose text begins with its title (every page of the lesson starts a new sheet;
    a long title may wrap onto a second line)."""
    found, start = {}, 2
    for docname, title, _ in articles:
        want = " ".join(title.split())
        for index in range(start, len(pages_text)):
            if " ".join(pages_text[index].split()).startswith(want):
                found[docname] = index + 1
                start = index + 1
                break
        else:
            raise DownloadError(f"the printed lesson has no page starting with the title {title!r}")
    return found


def make_pdf(site: Path, toc: Path, target: Path, *, title: str, subtitle: str) -> dict[str, int]:
    chromium = find_chromium()
    if chromium is None:
        raise ToolMissing("no Chromium found to print the PDF: install Debian's `chromium` package "
                          "or set $LESSON4_CHROMIUM")
    articles, captions = printable_articles(site), part_captions(toc)
    print_page = site / f"{PRINT_PAGE}.html"
    try:
        with SiteServer(site) as server, tempfile.TemporaryDirectory() as scratch:
            numbers: dict[str, int] = {}
            for attempt in ("draft", "final"):  # the draft tells where each page starts
                print_page.write_text(print_document(site, articles, captions, title, subtitle, numbers),
                                      encoding="utf-8")
                printed = Path(scratch) / f"{attempt}.pdf"
                print_pdf(server.url(PRINT_PAGE), printed, chromium)
                found = chapter_start_pages(pdf_pages_text(printed), articles)
                if attempt == "final" and found != numbers:
                    raise DownloadError("the page numbers moved between the two prints of the PDF")
                numbers = found
            shutil.move(printed, target)  # only a complete PDF ever lands in the site
    finally:
        print_page.unlink(missing_ok=True)
    return numbers


# --------------------------------------------------------------------------- the landing page

#: What the landing page says in place of the PDF's link when no PDF could be printed.
PDF_MISSING_NOTE = "not in this copy of the site: printing it needs Chromium"
_PDF_LINK = re.compile(r'<a (?:class="[^"]*" )?href="' + re.escape(PDF_NAME) + r'">(?P<text>[^<]*)</a>')
_PDF_NOTE = re.compile(r'<span class="download-missing" data-href="' + re.escape(PDF_NAME)
                       + r'">(?P<text>[^<]*) \(' + re.escape(PDF_MISSING_NOTE) + r'\)</span>')


def show_pdf_link(page: Path, printed: bool) -> None:
    """Make the landing page link to the PDF when it was printed, and say why there is none
    when it was not, so that a site built without Chromium never links to a missing file.
    Either way the page must hold exactly one mention of the PDF (a link or the note)."""
    html = page.read_text(encoding="utf-8")
    links, notes = _PDF_LINK.findall(html), _PDF_NOTE.findall(html)
    if len(links) + len(notes) != 1:
        raise DownloadError(f"{page} should link to {PDF_NAME} exactly once; found {len(links)} "
                            f"links and {len(notes)} notes in its place")
    if printed:
        html = _PDF_NOTE.sub(lambda m: f'<a href="{PDF_NAME}">{m["text"]}</a>', html)
    else:
        html = _PDF_LINK.sub(lambda m: f'<span class="download-missing" data-href="{PDF_NAME}">'
                                       f'{m["text"]} ({PDF_MISSING_NOTE})</span>', html)
    page.write_text(html, encoding="utf-8")


# --------------------------------------------------------------------------- the notebooks


def make_zip(notebooks: Path, target: Path) -> int:
    files = sorted(notebooks.glob("*.ipynb"))
    if not files:
        raise DownloadError(f"no reader notebooks in {notebooks}: run `make reader-notebooks`")
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(f"lesson4-notebooks/{path.name}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    partial.replace(target)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE, help="the built site (default: _build/html)")
    args = parser.parse_args(argv)
    site = args.site
    if not (site / "index.html").is_file():
        raise SystemExit(f"{site} holds no built site: run `make book` first")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    subtitle = (f"Every page of the course site, executed when the site was built (commit {commit}). "
                f"Code cells, outputs, figures and maths are those of the site; animations appear "
                f"as strips of frames.")
    landing = site / f"{toc_pages(ROOT / '_toc.yml')[0]}.html"
    try:
        count = make_zip(ROOT / "notebooks", site / ZIP_NAME)
        print(f"{ZIP_NAME}: {count} reader notebooks")
        show_pdf_link(landing, printed=True)  # before printing: the PDF holds the landing page too
        numbers = make_pdf(site, ROOT / "_toc.yml", site / PDF_NAME, title=config["title"], subtitle=subtitle)
    except ToolMissing as error:
        # A PDF left by an earlier build would no longer match the site: remove it, and
        # let the landing page say why there is none.
        (site / PDF_NAME).unlink(missing_ok=True)
        try:
            show_pdf_link(landing, printed=False)
        except DownloadError as problem:
            raise SystemExit(f"make_downloads: {problem}") from None
        # Without a browser a laptop still gets its site; CI must publish the PDF.
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            raise SystemExit(f"make_downloads: {error}") from None
        print(f"make_downloads: no PDF this time: {error}; the landing page says so in place "
              f"of its link", file=sys.stderr)
        return 0
    except DownloadError as error:
        raise SystemExit(f"make_downloads: {error}") from None
    pages = len(pdf_pages_text(site / PDF_NAME)) - 1
    print(f"{PDF_NAME}: {pages} pages, {(site / PDF_NAME).stat().st_size / 2**20:.1f} MB; "
          f"chapters start on pages {', '.join(str(n) for n in numbers.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
