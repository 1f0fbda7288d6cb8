"""A one-chapter book with the project's configuration, for tests that build a site."""

from __future__ import annotations

import shutil
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]

#: The front matter every chapter carries (see jupytext.toml).
FRONT_MATTER = """---
jupytext:
  formats: ipynb,md:myst
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

"""


def make_book(folder: Path, chapter: str) -> Path:
    """Write a book into ``folder`` whose one page, ``chapters/planted.md``, holds
    ``FRONT_MATTER + chapter``; returns that page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    shutil.copytree(ROOT / "_static", folder / "_static")  # _config.yml names the favicon in it
    shutil.copytree(ROOT / "_ext", folder / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "browser", folder / "browser")  # what _ext/browser_assets.py ships
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/planted\n")
    (folder / "intro.md").write_text("# Throw-away book\n\nOne page.\n")
    (folder / "chapters").mkdir()
    md = folder / "chapters" / "planted.md"
    md.write_text(FRONT_MATTER + chapter)
    # the launch and download buttons serve the page's reader notebook
    (folder / "notebooks").mkdir()
    jupytext.write(jupytext.read(md), folder / "notebooks" / "planted.ipynb", fmt="ipynb")
    return md
