"""The offline downloads of the built site: the whole lesson as one PDF, the reader notebooks as one zip.

``make book`` writes both into the site (``scripts/make_downloads.py``).  The PDF is read
back with ``pdftotext`` and ``pdfinfo`` from Debian's poppler-utils: it must hold every
page of the table of contents in order, under its title, on the page its table of
contents names, with a page number on every page and none of the site's navigation.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from functools import lru_cache

import pytest
import yaml
from bs4 import BeautifulSoup

from site_server import CHROMIUM_ENV, book_root, find_chromium, in_ci, site_dir, toc_pages
from test_site_browser import page_title

ROOT = book_root()
SITE = site_dir()
PDF = SITE / "lesson4.pdf"
ZIP = SITE / "lesson4-notebooks.zip"
PAGES = toc_pages()

pytestmark = pytest.mark.usefixtures("built_site")


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        if in_ci():
            pytest.fail(f"CI=true but {tool} is missing: install Debian's poppler-utils", pytrace=False)
        pytest.skip(f"{tool} is missing: install Debian's poppler-utils")


def need_chromium() -> None:
    """``make book`` prints the PDF with Chromium and skips it without one (see the README):
    the PDF's checks are skipped then too, except under CI, which must publish the PDF."""
    if find_chromium() is None:
        reason = (f"no Chromium, so `make book` printed no PDF: install Debian's chromium "
                  f"or set ${CHROMIUM_ENV}")
        if in_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)


@lru_cache(maxsize=1)
def pdf_pages() -> list[str]:
    need_chromium()
    if not PDF.is_file():
        pytest.fail(f"{PDF} is missing: `make book` writes it (scripts/make_downloads.py)")
    need("pdftotext")
    text = subprocess.run(["pdftotext", "-layout", str(PDF), "-"], check=True, capture_output=True,
                          text=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")][:-1]  # the text ends with \f


def test_the_pdf_has_a_page_per_chapter_at_least_and_every_page_is_numbered():
    pages = pdf_pages()
    need("pdfinfo")
    info = subprocess.run(["pdfinfo", str(PDF)], check=True, capture_output=True, text=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert count == len(pages) >= len(PAGES)
    # the footer is the bottom margin of each A4 page (842 pt high, margin 18 mm = 51 pt): read only
    # that strip, since where a page's other text lands in pdftotext's output is its own choice
    strips = subprocess.run(["pdftotext", "-layout", "-x", "0", "-y", "791", "-W", "595", "-H", "51", str(PDF), "-"],
                            check=True, capture_output=True, text=True).stdout.split("\f")[:-1]
    assert len(strips) == count
    for number, strip in enumerate(strips, start=1):
        assert " ".join(strip.split()) == f"{number} / {count}", f"page {number} has no page number in its footer"


def test_the_table_of_contents_names_every_page_in_order_with_the_page_it_starts_on():
    pages = pdf_pages()
    contents = pages[1]
    assert contents.startswith("Contents")
    last = 0
    for docname in PAGES:
        title = " ".join(page_title(docname).split())
        found = re.search(re.escape(title) + r" (\d+)", contents)
        assert found, f"the PDF's table of contents does not list {title!r} with a page number"
        start = int(found.group(1))
        assert start > last, f"{title!r} starts on page {start}, before the page listed above it"
        assert pages[start - 1].startswith(title), f"page {start} does not start with {title!r}"
        last = start


def test_the_pdf_holds_no_site_navigation_and_shows_animations_as_frame_strips():
    text = " ".join(pdf_pages())
    for chrome in ("Skip to main content", "Back to top", "Ctrl+K", "By The Lesson 4 authors"):
        assert chrome not in text, f"the PDF prints the site's {chrome!r}"
    players = sum(len(BeautifulSoup((SITE / f"{doc}.html").read_text(), "html.parser").select("div.frame-player"))
                  for doc in PAGES)
    assert players > 0
    assert text.count("here 4 of its frames, first to last") == players


def test_the_zip_holds_exactly_the_reader_notebooks():
    assert ZIP.is_file(), f"{ZIP} is missing: `make book` writes it (scripts/make_downloads.py)"
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    with zipfile.ZipFile(ZIP) as archive:
        assert archive.testzip() is None
        names = sorted(archive.namelist())
        assert names == [f"lesson4-notebooks/{path.name}" for path in notebooks]
        for path in notebooks:
            assert archive.read(f"lesson4-notebooks/{path.name}") == path.read_bytes(), f"{path.name} is stale"


def test_the_landing_page_links_to_both_downloads():
    index = yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]
    soup = BeautifulSoup((SITE / f"{index}.html").read_text(), "html.parser")
    targets = {link["href"] for link in soup.select("article a[href]")}
    assert ZIP.name in targets
    if find_chromium() is None and not in_ci():
        # built without a browser: no link to a PDF that does not exist, and a word on why
        assert PDF.name not in targets
        assert not PDF.exists(), f"{PDF} is left from an earlier build"
        note = soup.select_one(f'article span.download-missing[data-href="{PDF.name}"]')
        assert note is not None and "needs Chromium" in note.get_text()
    else:
        assert PDF.name in targets
