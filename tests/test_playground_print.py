"""The playgrounds outside the site: in the printed PDF and in the reader notebooks.

A playground needs the page's JavaScript, so the PDF replaces it with a line saying it is
interactive on the site, and each reader notebook links to its page's playground with the
page's preset in the URL fragment.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(md for md in (ROOT / "chapters").glob("*.md") if 'class="l4-playground"' in md.read_text())


def load(script: str):
    spec = importlib.util.spec_from_file_location(script, ROOT / "scripts" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[script] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def raw_block(md: Path) -> str:
    found = re.search(r"```\{raw\} html\n(.*?)```", md.read_text(), flags=re.S)
    assert found, f"{md.name} has no raw HTML block"
    return found.group(1)


def test_chapters_two_to_six_embed_a_playground():
    assert [md.name[:2] for md in PAGES] == ["02", "03", "04", "05", "06"]


@pytest.mark.parametrize("md", PAGES, ids=lambda md: md.stem)
def test_the_printed_page_says_the_playground_is_on_the_site(md, tmp_path):
    downloads = load("make_downloads")
    page = tmp_path / "chapters" / f"{md.stem}.html"
    page.parent.mkdir()
    page.write_text(f'<html><body><article class="bd-article"><h1>Title</h1>{raw_block(md)}</article></body></html>')
    _, html = downloads.printable_article(tmp_path, f"chapters/{md.stem}", {f"chapters/{md.stem}"})
    assert "interactive playground on the site" in html
    assert "l4-playground" not in html and "#playground:" not in html and "<link" not in html


@pytest.mark.parametrize("md", PAGES, ids=lambda md: md.stem)
def test_the_reader_notebook_links_to_the_playground_with_its_preset(md):
    readers = load("make_reader_notebooks")
    block = "```{raw} html\n" + raw_block(md) + "```\n"
    site = "https://example.org/lesson4/"
    page = readers.Page(md.name, {}, {}, {}, site, {})
    text = readers.convert_markdown(block, page, md.parent)
    preset = re.search(r'data-preset="([^"]*)"', block)
    link = f"{site}chapters/{md.stem}.html" + (f"#playground:{preset.group(1)}" if preset else "")
    assert f"]({link})" in text, text
    assert "<div" not in text and "<script" not in text
