"""Static checks of the built site (``_build/html``, or ``$LESSON4_SITE``).

No browser needed: the HTML files are parsed and every reference is followed on disk.

- every page the TOC lists was built;
- no broken internal link or anchor, no missing image, script or stylesheet;
- every ``<img>`` has alt text, and each page shows as many images of its own as its
  cells and frame players make (``page_content``);
- scripts, stylesheets, icons and images all come from the site itself;
- no page weighs more than 3 MB together with its images;
- the total size of the GIFs is reported (with the page weights) in ``_build/site_report.txt``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import page_content
from site_server import artifacts_dir, site_dir, site_is_built, toc_pages

SITE = site_dir()

# Every check skips when the site has not been built (``make book``); fails instead under CI.
pytestmark = pytest.mark.usefixtures("built_site")

#: Budget for one page: its HTML plus every image it shows.
PAGE_BUDGET_BYTES = 3_000_000
#: Folders of the build that hold assets, not pages.
ASSET_FOLDERS = {"_static", "_sources", "_images", "_downloads"}
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


@dataclass
class ParsedPage:
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)  # <a href>
    resources: list[tuple[str, str]] = field(default_factory=list)  # (tag, url) loaded with the page
    images: list[dict[str, str | None]] = field(default_factory=list)  # attributes of each <img>


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attributes.get(key):
                self.page.ids.add(attributes[key])
        if tag == "a" and attributes.get("href") is not None:
            self.page.links.append(attributes["href"])
        elif tag == "img":
            self.page.images.append(attributes)
            if attributes.get("src"):
                self.page.resources.append(("img", attributes["src"]))
        elif tag in ("script", "source", "video", "audio", "iframe") and attributes.get("src"):
            self.page.resources.append((tag, attributes["src"]))
        elif tag == "link" and attributes.get("href"):
            rel = (attributes.get("rel") or "").lower().split()
            if {"stylesheet", "icon", "preload", "shortcut"} & set(rel):
                self.page.resources.append(("link", attributes["href"]))


@lru_cache(maxsize=None)
def parse(path: Path) -> ParsedPage:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.page


def built_pages() -> list[Path]:
    """Every HTML page of the site (assets folders excluded)."""
    return sorted(
        p for p in SITE.rglob("*.html") if not (set(p.relative_to(SITE).parts[:-1]) & ASSET_FOLDERS)
    )


def resolve(page: Path, url: str) -> tuple[Path, str]:
    """The file a relative URL on ``page`` points at, and its fragment."""
    parts = urlsplit(url)
    target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def rel(path: Path) -> str:
    try:
        return path.relative_to(SITE).as_posix()
    except ValueError:
        return str(path)


def page_id(path: Path) -> str:
    return rel(path)


PAGES = built_pages() if site_is_built(SITE) else []


def test_every_toc_page_was_built():
    missing = [doc for doc in toc_pages() if not (SITE / f"{doc}.html").is_file()]
    assert not missing, f"pages listed in _toc.yml but not built in {SITE}: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_internal_links_and_anchors_resolve(page):
    broken = []
    for url in parse(page).links:
        if EXTERNAL.match(url) or url in ("", "#"):
            continue
        target, fragment = resolve(page, url)
        if not target.is_file():
            broken.append(f"{url} -> missing file {rel(target)}")
        elif fragment.startswith("playground:") and 'class="l4-playground"' not in target.read_text(encoding="utf-8"):
            broken.append(f"{url} -> a playground preset, but {rel(target)} has no playground")
        elif fragment and not fragment.startswith("playground:") and target.suffix == ".html" \
                and fragment not in parse(target).ids:
            broken.append(f"{url} -> no element with id {fragment!r} in {rel(target)}")
    assert not broken, f"{rel(page)} has broken links:\n  " + "\n  ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_resources_exist_and_come_from_the_site(page):
    problems = []
    for tag, url in parse(page).resources:
        if url.startswith("data:"):
            continue
        if EXTERNAL.match(url):
            problems.append(f"<{tag}> loads {url} from outside the site")
            continue
        target, _ = resolve(page, url)
        if not target.is_file():
            problems.append(f"<{tag}> {url} -> missing file {rel(target)}")
    assert not problems, f"{rel(page)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_image_has_alt_text(page):
    missing = [img.get("src") for img in parse(page).images if not (img.get("alt") or "").strip()]
    assert not missing, f"{rel(page)} has images without alt text: {missing}"


@pytest.mark.parametrize("docname", toc_pages())
def test_every_page_shows_the_images_its_source_makes(docname):
    shown = [img.get("src") for img in parse(SITE / f"{docname}.html").images if "_images/" in (img.get("src") or "")]
    expected = page_content.expected_images(docname)
    assert len(shown) == expected, f"{docname} shows {len(shown)} images of its own; its source makes {expected}: {shown}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_no_inline_script_is_repeated(page):
    """A repeated inline script re-declares its constants: a console error on every page."""
    text = page.read_text(encoding="utf-8")
    inline = re.findall(r"<script>(.*?)</script>", text, flags=re.DOTALL)
    declared = [name for body in inline for name in re.findall(r"\b(?:const|let)\s+([A-Za-z_$][\w$]*)", body)]
    repeated = sorted({name for name in declared if declared.count(name) > 1})
    assert not repeated, f"{rel(page)} declares {repeated} more than once in inline scripts"


def page_weight(page: Path) -> dict:
    """Bytes of a page's HTML, of its images (each counted once), and of its other assets."""
    images, assets = {}, {}
    for tag, url in parse(page).resources:
        if url.startswith("data:") or EXTERNAL.match(url):
            continue
        target, _ = resolve(page, url)
        if target.is_file():
            (images if tag == "img" else assets)[target] = target.stat().st_size
    html = page.stat().st_size
    return {
        "page": rel(page),
        "html_bytes": html,
        "image_bytes": sum(images.values()),
        "with_images_bytes": html + sum(images.values()),
        "with_all_assets_bytes": html + sum(images.values()) + sum(assets.values()),
        "images": sorted(rel(p) for p in images),
        "gifs": sorted(rel(p) for p in images if p.suffix.lower() == ".gif"),
    }


def test_page_weights_within_budget_and_report():
    weights = [page_weight(SITE / f"{doc}.html") for doc in toc_pages() if (SITE / f"{doc}.html").is_file()]
    assert weights, "no TOC page was built"
    gifs = {gif: (SITE / gif).stat().st_size for w in weights for gif in w["gifs"]}
    all_gifs = {rel(p): p.stat().st_size for p in SITE.rglob("*.gif") if "_static" not in p.parts}
    images = {img for w in weights for img in w["images"] if not img.startswith("_static/")}
    largest = max(weights, key=lambda w: w["with_images_bytes"])
    report = {
        "site": str(SITE),
        "pages_checked": len(weights),
        "total_with_images_bytes": sum(w["with_images_bytes"] for w in weights),
        "largest_page": largest["page"],
        "largest_with_images_bytes": largest["with_images_bytes"],
        "content_images": len(images),
        "gifs_shown": len(gifs),
        "gif_total_bytes": sum(gifs.values()),
        "gifs_in_build": len(all_gifs),
        "gif_build_total_bytes": sum(all_gifs.values()),
        "pages": weights,
    }
    folder = artifacts_dir(SITE)
    (folder / "site_report.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"pages checked: {report['pages_checked']}",
        f"total weight (HTML + images): {report['total_with_images_bytes'] / 1e6:.2f} MB",
        f"largest page: {largest['page']} {largest['with_images_bytes'] / 1e6:.2f} MB with images, "
        f"{largest['with_all_assets_bytes'] / 1e6:.2f} MB with scripts and styles",
        f"content images: {report['content_images']}; GIFs: {report['gifs_shown']} "
        f"totalling {report['gif_total_bytes'] / 1e6:.2f} MB",
        "",
        f"{'page':40s} {'HTML kB':>9s} {'images kB':>10s} {'total kB':>9s} {'+assets kB':>11s}",
    ]
    for w in weights:
        lines.append(
            f"{w['page']:40s} {w['html_bytes'] / 1e3:9.0f} {w['image_bytes'] / 1e3:10.0f} "
            f"{w['with_images_bytes'] / 1e3:9.0f} {w['with_all_assets_bytes'] / 1e3:11.0f}"
        )
    (folder / "site_report.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    over = [f"{w['page']} ({w['with_images_bytes'] / 1e6:.2f} MB)" for w in weights if w["with_images_bytes"] > PAGE_BUDGET_BYTES]
    assert not over, f"pages over the {PAGE_BUDGET_BYTES / 1e6:.0f} MB budget with their images: {over}"
