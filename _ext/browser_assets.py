"""A small Sphinx extension: ship the code that runs in the reader's browser, ``browser/``.

Everything the site runs in the reader's browser lives in one folder at the repository root,
one subfolder per component, each with a script and a stylesheet of the same name::

    browser/player/player.js      browser/player/player.css

The HTML build copies the whole folder to ``_static/browser/`` (without a component's
tests, notes or npm files).  A directive whose page
needs a component calls :func:`use_component` while the page is read; that page, and only
that page, then loads ``_static/browser/NAME/NAME.css`` and ``NAME.js`` (deferred).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

FOLDER = "browser"
ENV_KEY = "lesson4_browser_components"


def component_files(name: str) -> tuple[str, str]:
    """The stylesheet and script of component ``name``, relative to the site's ``_static``."""
    return f"{FOLDER}/{name}/{name}.css", f"{FOLDER}/{name}/{name}.js"


def use_component(env, name: str) -> None:
    """Make the page being read load component ``name``; it must exist in ``browser/``."""
    missing = [path for path in component_files(name) if not (Path(env.srcdir) / path).is_file()]
    if missing:
        raise ExtensionError(f"the browser component {name!r} needs {' and '.join(missing)}")
    if not hasattr(env, ENV_KEY):
        setattr(env, ENV_KEY, {})
    getattr(env, ENV_KEY).setdefault(env.docname, set()).add(name)


def _purge(app, env, docname) -> None:
    getattr(env, ENV_KEY, {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    mine = getattr(env, ENV_KEY, None) or {}
    for docname in docnames:
        if docname in getattr(other, ENV_KEY, {}):
            mine[docname] = getattr(other, ENV_KEY)[docname]
    setattr(env, ENV_KEY, mine)


def _add_page_assets(app, pagename, templatename, context, doctree) -> None:
    for name in sorted(getattr(app.env, ENV_KEY, {}).get(pagename, ())):
        stylesheet, script = component_files(name)
        app.add_css_file(stylesheet)
        app.add_js_file(script, loading_method="defer")


def _copy_folder(app, exception) -> None:
    source = Path(app.srcdir) / FOLDER
    if exception is None and app.builder.format == "html" and source.is_dir():
        target = Path(app.outdir) / "_static" / FOLDER
        shutil.rmtree(target, ignore_errors=True)
        # a component's own tests and npm files stay in the repository
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(
            "tests", "*.test.js", "*.md", "node_modules", "package.json", "package-lock.json"))


def setup(app):
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("html-page-context", _add_page_assets)
    app.connect("build-finished", _copy_folder)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
