"""A small Sphinx extension: launch and download buttons serve the page's reader notebook.

The theme points its Colab and Binder buttons at ``chapters/NN_name.ipynb``, the Jupytext
pair that holds the MyST source and the tests' reference outputs, and its download button at
the executed copy of the same MyST cells.  Outside the site builder MyST shows as raw text,
so this extension swaps both for ``notebooks/NN_name.ipynb``, the same page written in plain
Jupyter Markdown (``scripts/make_reader_notebooks.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
READER_FOLDER = "notebooks"


def reader_notebook_path(pagename: str) -> str:
    """``chapters/05_dense_layers`` -> ``notebooks/05_dense_layers.ipynb``."""
    return f"{READER_FOLDER}/{Path(pagename).name}.ipynb"


def point_at_reader_notebook(app, pagename, templatename, context, doctree) -> None:
    groups = [b for b in context.get("header_buttons", []) if b.get("label") == "launch-buttons"]
    if not groups:
        return
    reader = Path(app.srcdir) / reader_notebook_path(pagename)
    if not reader.is_file():
        # A new page gets its reader notebook from this build's values, so its first build
        # cannot have one; the tests fail until `make reader-notebooks` has written it.
        LOGGER.info(f"{pagename} has no reader notebook {reader_notebook_path(pagename)} yet: "
                    "run `make reader-notebooks` after this build")
        return
    pair = f"{pagename}.ipynb"
    for group in groups:
        for button in group["buttons"]:
            if button.get("type") == "link" and pair in button.get("url", ""):
                button["url"] = button["url"].replace(pair, reader_notebook_path(pagename))
    if context.get("ipynb_source"):
        shutil.copy2(reader, Path(app.outdir) / "_sources" / context["ipynb_source"])


def setup(app):
    # after the theme's own handlers (priority 501), which make the buttons and the download copy
    app.connect("html-page-context", point_at_reader_notebook, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
