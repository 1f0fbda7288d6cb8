"""Helpers shared by the site checks (and ``scripts/make_downloads.py``, which prints the PDF):
where the built site is, which pages the TOC lists, a local web server for it, and where
a Chromium browser lives.

The checks look at the HTML that ``make book`` writes to ``_build/html``; set
``LESSON4_SITE`` to check a site built somewhere else (``jupyter-book build --path-output``).
"""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import shutil
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: Environment variable naming the built HTML folder to check.
SITE_ENV = "LESSON4_SITE"
#: Environment variable naming a Chromium executable (default: Debian's ``chromium``).
CHROMIUM_ENV = "LESSON4_CHROMIUM"
#: Chromium switches that work in containers and keep the browser off the network.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def book_root() -> Path:
    """The book's folder (page sources, ``_config.yml``): this clone."""
    return ROOT


def toc_path() -> Path:
    """The table of contents the site was built from: the book's ``_toc.yml``."""
    return book_root() / "_toc.yml"


def book_config() -> dict:
    """The book's ``_config.yml``."""
    return yaml.safe_load((book_root() / "_config.yml").read_text())


def site_dir() -> Path:
    """The built HTML folder: ``$LESSON4_SITE``, else ``<repo>/_build/html``."""
    chosen = os.environ.get(SITE_ENV, "").strip()
    return Path(chosen).expanduser().resolve() if chosen else ROOT / "_build" / "html"


def site_is_built(site: Path | None = None) -> bool:
    site = site_dir() if site is None else site
    return (site / "index.html").is_file() and (site / "searchindex.js").is_file()


def not_built_reason(site: Path | None = None) -> str:
    site = site_dir() if site is None else site
    return f"the site has not been built ({site / 'index.html'} is missing): run `make book` first, or set ${SITE_ENV}"


def in_ci() -> bool:
    """True under continuous integration (``CI=true``), where nothing may be skipped for lack of tools."""
    return os.environ.get("CI", "").strip().lower() == "true"


def require_built_site(site: Path | None = None) -> Path:
    """Skip the calling test when the site is not built; fail instead under CI."""
    import pytest

    site = site_dir() if site is None else site
    if not site_is_built(site):
        if in_ci():
            pytest.fail(f"CI=true but {not_built_reason(site)}", pytrace=False)
        pytest.skip(not_built_reason(site))
    return site


def artifacts_dir(site: Path | None = None) -> Path:
    """Where the checks leave screenshots and reports: the ``_build`` folder above the site."""
    site = site_dir() if site is None else site
    return site.parent


def _toc_files(entries) -> list[str]:
    found: list[str] = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            raise ValueError(f"unexpected TOC entry {entry!r}: expected a mapping")
        if "file" in entry:
            found.append(str(entry["file"]))
        for key in ("chapters", "sections"):
            found.extend(_toc_files(entry.get(key)))
    return found


def toc_pages(toc: Path | None = None) -> list[str]:
    """Every page the table of contents lists, in reading order, as Sphinx docnames."""
    toc = toc_path() if toc is None else toc
    data = yaml.safe_load(toc.read_text())
    if not isinstance(data, dict) or "root" not in data:
        raise ValueError(f"{toc} has no 'root' entry: is it a Jupyter Book table of contents?")
    pages = [str(data["root"])]
    pages += _toc_files(data.get("chapters"))
    for part in data.get("parts", []) or []:
        pages += _toc_files(part.get("chapters"))
    cleaned = []
    for page in pages:
        page = page.removesuffix(".md").removesuffix(".ipynb")
        if page not in cleaned:
            cleaned.append(page)
    return cleaned


def page_source(docname: str) -> Path | None:
    """The source file of a page (``.md`` or ``.ipynb``), or ``None``."""
    for suffix in (".md", ".ipynb"):
        path = book_root() / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


def is_notebook_page(docname: str) -> bool:
    """True when the page is an executable notebook (a MyST notebook with a kernelspec)."""
    source = page_source(docname)
    if source is None:
        return False
    if source.suffix == ".ipynb":
        return True
    text = source.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    front = text.split("---", 2)[1]
    return "kernelspec:" in front


def find_chromium() -> str | None:
    """The Chromium executable: ``$LESSON4_CHROMIUM``, else ``chromium`` on the PATH."""
    chosen = os.environ.get(CHROMIUM_ENV, "").strip()
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


#: File types sent compressed, as GitHub Pages sends them.
GZIP_SUFFIXES = {".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt", ".xml", ".map", ".ttf"}


@functools.lru_cache(maxsize=512)
def _gzipped(path: str, mtime_ns: int) -> bytes:
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


class _GzipHandler(_QuietHandler):
    """Like the plain handler, but text files go out gzipped to browsers that accept it."""

    def do_GET(self):  # noqa: N802 - name fixed by the base class
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.suffix.lower() in GZIP_SUFFIXES and path.is_file()):
            return super().do_GET()  # folders without a slash, images, fonts, missing files
        body = _gzipped(str(path), path.stat().st_mtime_ns)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class SiteServer:
    """Serve a folder on ``http://127.0.0.1:<free port>/`` from a background thread.

    Use as a context manager; ``origin`` is the base URL, ``url(docname)`` a page's URL.
    With ``gzip=True`` text files are sent compressed, as GitHub Pages sends them.
    """

    def __init__(self, folder: Path, gzip: bool = False):
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"cannot serve {folder}: it is not a folder")
        self.folder = folder
        handler = functools.partial(_GzipHandler if gzip else _QuietHandler, directory=str(folder))
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="site-server", daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, docname: str) -> str:
        return f"{self.origin}/{docname}.html"

    def __enter__(self) -> "SiteServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
