"""The theme templates that _ext/accessible_names.py overrides stay the theme's own but for
the names: a theme upgrade that changes them shows up here, not as a stale copy on the site.
(The browser audit, tests/test_site_accessibility.py, checks the names themselves.)"""

import re
import sys
from pathlib import Path

import pydata_sphinx_theme
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import accessible_names  # noqa: E402

OURS = ROOT / "_ext" / "templates"
THEIRS = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "components"


def markup(text: str) -> str:
    """The template without Jinja comments and without the attributes the overrides change."""
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.DOTALL)
    text = re.sub(r'\s(aria-label|title|aria-hidden)="[^"]*"', "", text)
    return " ".join(text.split())


@pytest.mark.parametrize("name", ["search-button-field.html", "theme-switcher.html"])
def test_overrides_match_the_installed_theme_but_for_the_names(name):
    assert (OURS / name).is_file() and (THEIRS / name).is_file()
    assert markup((OURS / name).read_text()) == markup((THEIRS / name).read_text()), (
        f"pydata-sphinx-theme's {name} changed: update _ext/templates/{name} from it")


def test_the_search_button_is_named_by_what_it_shows():
    button = re.search(r"<button[^>]*>", (OURS / "search-button-field.html").read_text()).group(0)
    assert "aria-label" not in button


def test_myst_nb_summaries_lose_the_label_that_hid_their_text():
    context = {"body": f'<details>{accessible_names.MYST_NB_SUMMARY}<span>Show code cell source</span></summary>'}
    accessible_names._name_summaries_by_their_text(None, "p", "page.html", context, None)
    assert context["body"] == "<details><summary><span>Show code cell source</span></summary>"


def test_myst_nb_still_writes_that_label():
    """Were MyST-NB to write its summaries another way, the replacement would do nothing."""
    import myst_nb.sphinx_

    assert accessible_names.MYST_NB_SUMMARY in Path(myst_nb.sphinx_.__file__).read_text()
