"""A small Sphinx extension: controls whose accessible name contains the text they show.

A reader who operates the page by voice says what a control shows; when its name differs
(axe-core's ``label-content-name-mismatch``), the command finds nothing.  Three controls
come from the theme and MyST-NB with such names:

- the theme's search button shows "Search Ctrl+K" but was named "Search", and its
  light/dark switch counted its icons' titles as text: ``templates/`` here
  overrides both templates (found by name, as the theme includes them);
- MyST-NB names the summary of a hidden cell ("Show code cell source") "Toggle hidden
  content": the summary loses that label here, so its name is the text it shows.
"""

from __future__ import annotations

from pathlib import Path

#: What MyST-NB writes for the summary of a cell hidden behind a toggle.
MYST_NB_SUMMARY = '<summary aria-label="Toggle hidden content">'


def _add_templates(app, config) -> None:
    config.templates_path = [str(Path(__file__).parent / "templates"), *config.templates_path]


def _name_summaries_by_their_text(app, pagename, templatename, context, doctree) -> None:
    if MYST_NB_SUMMARY in context.get("body", ""):
        context["body"] = context["body"].replace(MYST_NB_SUMMARY, "<summary>")


def setup(app):
    app.connect("config-inited", _add_templates)
    app.connect("html-page-context", _name_summaries_by_their_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
