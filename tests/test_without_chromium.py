"""A newcomer's machine without Chromium, on a machine that has one.

``LESSON4_CHROMIUM=/nonexistent`` makes the project behave as if no Chromium were installed.
Then ``make book`` still writes the site and the notebooks' zip, and the landing page says
why there is no PDF instead of linking to a missing file; the README's ``make test`` skips
the PDF and browser checks with a reason. Under CI (``CI=true``) the same run must fail:
a published site needs its PDF and its browser checks.

The PDF step runs on a copy of the built site's landing page (everything else is linked
into the copy), so the real site is left as it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from site_server import CHROMIUM_ENV, SITE_ENV, book_root

ROOT = book_root()
ABSENT = "/nonexistent/chromium"
LANDING = "intro.html"
PDF = "lesson4.pdf"


@pytest.fixture(scope="module")
def site_without_pdf(built_site, tmp_path_factory):
    """A site like the built one, with a stale PDF planted, after ``make_downloads.py`` ran
    without Chromium; returns (the site, what the script printed)."""
    site = tmp_path_factory.mktemp("no-chromium") / "html"
    site.mkdir()
    for entry in built_site.iterdir():
        if entry.name in (LANDING, PDF):
            continue
        (site / entry.name).symlink_to(entry)
    shutil.copy(built_site / LANDING, site / LANDING)
    (site / PDF).write_bytes(b"%PDF-1.4 left from an earlier build\n")
    done = run([sys.executable, "scripts/make_downloads.py", "--site", str(site)], ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return site, done.stdout + done.stderr


def run(command: list[str], *, ci: bool, site: Path | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("CI", SITE_ENV)}
    env[CHROMIUM_ENV] = ABSENT
    if ci:
        env["CI"] = "true"
    if site is not None:
        env[SITE_ENV] = str(site)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_make_downloads_without_chromium_drops_the_pdf_link_and_says_why(site_without_pdf):
    site, printed = site_without_pdf
    assert "no PDF this time" in printed and "Chromium" in printed
    assert not (site / PDF).exists(), "a PDF from an earlier build is still offered"
    soup = BeautifulSoup((site / LANDING).read_text(encoding="utf-8"), "html.parser")
    links = {link["href"] for link in soup.select("a[href]")}
    assert PDF not in links and "lesson4-notebooks.zip" in links
    assert "printing it needs Chromium" in soup.get_text()


def test_make_downloads_without_chromium_fails_under_ci(site_without_pdf):
    site, _ = site_without_pdf
    done = run([sys.executable, "scripts/make_downloads.py", "--site", str(site)], ci=True)
    assert done.returncode != 0
    assert "Chromium" in done.stderr


#: The checks that a missing Chromium touches: the PDF's, the landing page's links, and
#: one browser module (every browser test shares the same Chromium fixture).
CHECKS = ["tests/test_downloads.py", f"tests/test_site_static.py::test_internal_links_and_anchors_resolve[{LANDING}]",
          "tests/test_site_browser.py::test_page_loads_without_console_errors_or_failed_requests"]


def pytest_run(site: Path, *, ci: bool) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "pytest", *CHECKS, "-q", "-rs", "-p", "no:cacheprovider"],
               ci=ci, site=site)


def test_make_test_without_chromium_skips_the_pdf_and_browser_checks_with_a_reason(site_without_pdf):
    site, _ = site_without_pdf
    done = pytest_run(site, ci=False)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert " failed" not in out and " error" not in out, out
    assert "printed no PDF" in out, "the PDF checks do not say why they were skipped"
    assert "no Chromium browser found" in out, "the browser checks do not say why they were skipped"


def test_make_test_without_chromium_fails_under_ci(site_without_pdf):
    site, _ = site_without_pdf
    done = pytest_run(site, ci=True)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "CI=true but" in out
