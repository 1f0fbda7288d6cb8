"""What each page of the site should show, counted from its source.

The browser checks compare what they saw on a page with these counts, so that a page that
lost its figures, its equations or its code (or never loaded) cannot pass them by showing
nothing:

- the title: the source's first ``# `` heading;
- formulas: the maths MyST finds in the Markdown (``$...$``, ``$$...$$``, amsmath
  environments), parsed with the same markdown-it plugins, inside admonitions and toggles too,
  and in the captions of the figures that code cells make;
- code cells: the chapter's code cells less those tagged ``remove-cell`` or ``remove-input``;
- content images: every image a cell output shows (counted in the build's execution cache),
  and every image the Markdown places (figures,
  glued figures, frame players' posters, ``![...](...)``); the theme's logo is not counted.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import jupytext
from markdown_it import MarkdownIt
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from site_server import book_root, site_dir

#: Directives whose body is Markdown the page shows (and so may hold maths and images).
MARKDOWN_DIRECTIVES = ("admonition", "note", "tip", "warning", "important", "dropdown", "toggle", "figure",
                       "frame-player")
#: Directives that place one image on the page.
IMAGE_DIRECTIVES = ("figure", "image", "glue:figure", "frame-player")
MATH_TOKENS = ("math_inline", "math_inline_double", "math_block", "math_block_label", "amsmath")
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
HIDDEN_INPUT = {"remove-cell", "remove-input"}
HIDDEN_OUTPUT = {"remove-cell", "remove-output"}


def source(docname: str) -> Path:
    return book_root() / f"{docname}.md"


@lru_cache(maxsize=None)
def markdown_parser() -> MarkdownIt:
    return (MarkdownIt("commonmark").use(dollarmath_plugin, double_inline=True).use(amsmath_plugin)
            .use(colon_fence_plugin))


def directive_body(content: str) -> str:
    """A directive's content without its ``:option: value`` lines."""
    lines = content.splitlines()
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        lines.pop(0)
    return "\n".join(lines)


def markdown_counts(markdown: str) -> Counter:
    """The formulas and the images a piece of MyST Markdown shows."""
    counts = Counter()
    for token in markdown_parser().parse(markdown):
        if token.type in MATH_TOKENS:
            counts["formulas"] += 1
        elif token.type == "inline":
            counts["formulas"] += sum(child.type in MATH_TOKENS for child in token.children or [])
            counts["images"] += sum(child.type == "image" for child in token.children or [])
        elif token.type in ("fence", "colon_fence"):
            directive = re.match(r"\{([\w:-]+)\}", token.info.strip())
            name = directive[1] if directive else None
            counts["images"] += name in IMAGE_DIRECTIVES
            if name in MARKDOWN_DIRECTIVES:
                counts += markdown_counts(directive_body(token.content))
    return counts


@lru_cache(maxsize=None)
def cells(docname: str) -> tuple:
    return tuple(jupytext.read(source(docname)).cells)


def expected_title(docname: str) -> str:
    heading = re.search(r"^# (.+)$", source(docname).read_text(), re.MULTILINE)
    assert heading, f"{source(docname)} has no '# ' title"
    return heading[1].strip()


def figure_caption(cell) -> str:
    return ((cell.metadata.get("mystnb") or {}).get("figure") or {}).get("caption", "")


def expected_formulas(docname: str) -> int:
    return sum(markdown_counts(cell.source if cell.cell_type == "markdown" else figure_caption(cell))["formulas"]
               for cell in cells(docname))


def expected_code_cells(docname: str) -> int:
    return sum(cell.cell_type == "code" and not HIDDEN_INPUT & set(cell.metadata.get("tags", []))
               for cell in cells(docname))


def executed_cells(docname: str) -> list:
    """The code cells of the page as the build executed them: its entry in the execution
    cache (``_build/.jupyter_cache``), which holds the outputs the page renders.  (The copy
    MyST-NB writes to ``_build/jupyter_execute`` holds no outputs when the page came from
    the cache.)"""
    from jupyter_cache import get_cache

    folder = site_dir().parent / ".jupyter_cache"
    assert folder.is_dir(), f"{folder} is missing: the build did not execute {docname}"
    cache = get_cache(str(folder))
    try:
        record = cache.match_cache_notebook(jupytext.read(source(docname)))
    except KeyError:
        raise AssertionError(f"the execution cache holds no run of {docname}'s current code: run `make book`") \
            from None
    notebook = cache.get_cache_bundle(record.pk).nb
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def expected_images(docname: str) -> int:
    """Images the cells' outputs show, plus those the Markdown places."""
    placed = sum(markdown_counts(cell.source)["images"] for cell in cells(docname) if cell.cell_type == "markdown")
    if not any(cell.cell_type == "code" for cell in cells(docname)):
        return placed
    outputs = 0
    for cell in executed_cells(docname):
        if HIDDEN_OUTPUT & set(cell.get("metadata", {}).get("tags", [])):
            continue
        outputs += sum(any(mime in output.get("data", {}) for mime in IMAGE_MIMES) for output in cell["outputs"])
    return outputs + placed
