"""The book configuration keeps the settings that make builds strict and repeatable."""

import re
from pathlib import Path

import yaml
from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def test_execution_is_cached_and_strict():
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["raise_on_error"] is True
    assert execute["stderr_output"] == "warn"
    assert CONFIG["only_build_toc_files"] is True


def test_notebook_pairs_and_build_folders_are_excluded():
    patterns = CONFIG["exclude_patterns"]
    assert "chapters/*.ipynb" in patterns and "**/_build" in patterns


def test_repository_launch_buttons_and_download_button_are_configured():
    # The launch links are built from repository.url; tests/test_site_browser.py checks the
    # built links and tests/test_notebook_pairs.py the setup cells against this same URL.
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", CONFIG["repository"]["url"])
    assert not CONFIG["repository"]["url"].endswith(".git")
    assert CONFIG["launch_buttons"]["binderhub_url"].startswith("https://")
    assert CONFIG["launch_buttons"]["colab_url"].startswith("https://")
    assert CONFIG["html"]["use_repository_button"] and CONFIG["html"]["use_download_button"]


def test_math_admonitions_and_tabs_are_enabled():
    extensions = CONFIG["parse"]["myst_enable_extensions"]
    assert {"dollarmath", "amsmath", "colon_fence"} <= set(extensions)
    extensions = set(CONFIG["sphinx"]["config"]["extensions"])
    assert {"myst_nb", "sphinx_design", "sphinx_togglebutton", "lesson4_support.sphinx_tabs",
            "sphinx-mathjax-offline"} <= extensions
    assert "sphinx_thebe" not in extensions  # its inline script is written twice per page under Sphinx 7
    # Jupyter Book always sets comments_config; without sphinx_comments a -W build stops on it
    assert "sphinx_comments" in extensions


def test_the_readme_names_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def sanitized(text):
    for regex, replace in get_sanitize_patterns((ROOT / "tests" / "sanitize.cfg").read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_nbval_reads_every_sanitize_rule():
    text = (ROOT / "tests" / "sanitize.cfg").read_text()
    sections = re.findall(r"^\[[^\]]+\]$", text, flags=re.MULTILINE)
    assert len(get_sanitize_patterns(text)) == len(sections), "a section's regex: or replace: line is not read"


def test_sanitizing_masks_rounding_gaps_but_not_the_lessons_small_results():
    assert sanitized("dense layer, max abs difference: 6.0e-08") == "dense layer, max abs difference: TINY"
    assert sanitized("dense layer, max abs difference: 0.0e+00") == "dense layer, max abs difference: TINY"
    for result in ("best case through 10 sigmoid layers: 9.5e-07",
                   "float32 machine epsilon: 1.2e-07",
                   "plain RNN, before training first row / last row: 9.6e-09",
                   "LSTM, before training      first row / last row: 5.0e-06"):
        assert sanitized(result) == result
    assert sanitized("torch         2.14.1+cu128") == sanitized("torch         2.14.1")
    # a right-aligned time column is as wide as the slowest run needs
    assert sanitized("plain RNN, 64 units       6,666         93.16%      8.8 s") == \
        sanitized("plain RNN, 64 units       6,666         93.16%     12.4 s")
